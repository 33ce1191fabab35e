package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/paymeter/paymeter/internal/meter"
)

var _ meter.UptoLedger = (*Ledger)(nil)

// uptoTotal is the upto_exposure row of all payers together.
const uptoTotal = "*"

// uptoStmtSQL are the writer's statements of upto (migration 0010).
var uptoStmtSQL = map[string]string{
	"uptoKeyUsed":  `SELECT 1 FROM upto_authorizations WHERE key = ?`,
	"uptoDeadline": `SELECT deadline FROM upto_authorizations WHERE id = ?`,
	"uptoExposure": `SELECT open, failed FROM upto_exposure WHERE payer = ?`,
	// The batch's final figures (flushExposure); the writer's transaction
	// is the only one writing.
	"uptoExposeSet": `UPDATE upto_exposure SET open = ?, failed = ? WHERE payer = ?`,
	"uptoExposeNew": `INSERT INTO upto_exposure (open, failed, payer) VALUES (?, ?, ?)`,
	"uptoClaim": `INSERT INTO upto_authorizations (key, network, token, payer, account_id, max, state, request_id,
		deadline, payload, requirement, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?, ?, ?, ?)`,
	"uptoSelect": `SELECT key, state, payer, account_id, max, amount, ` + uptoChargeColumn + ` FROM upto_authorizations WHERE id = ?`,
	// A capture names neither closed_at nor created_at, so no index of
	// the row is rewritten (migration 0016); one of nothing is final.
	"uptoCapture": `UPDATE upto_authorizations SET state = 'due', cost = ?, amount = ?, updated_at = ?
		WHERE id = ? AND state = 'claimed'`,
	"uptoCaptureNothing": `UPDATE upto_authorizations SET state = 'released', cost = ?, amount = ?, updated_at = ?, closed_at = ?
		WHERE id = ? AND state = 'claimed'`,
	"uptoCharge": `INSERT INTO upto_charges (upto_id, charge) VALUES (?, ?)`,
	"uptoState": `UPDATE upto_authorizations SET state = ?1, tx_hash = CASE WHEN ?2 = '' THEN tx_hash ELSE ?2 END,
		reason = ?3, updated_at = ?4, closed_at = CASE WHEN ?1 IN ('settled', 'released') THEN ?4 ELSE closed_at END
		WHERE id = ?5`,
	"uptoBegin": `UPDATE upto_authorizations SET state = CASE state WHEN 'failed' THEN 'failed' ELSE 'settling' END,
		attempts = attempts + 1, updated_at = ? WHERE id = ? AND state IN ('due', 'settling', 'failed')`,
	"uptoSettle": `UPDATE upto_authorizations SET state = 'settled', tx_hash = ?1, reason = '', settled_at = ?2, updated_at = ?2,
		closed_at = ?2 WHERE id = ?3`,
}

// uptoRow is what the writer reads of an authorization before moving it.
type uptoRow struct {
	key, state, payer, charge string
	accountID, max, amount    int64
}

func (b *batch) uptoRow(id int64) (*uptoRow, error) {
	var r uptoRow
	err := b.stmt("uptoSelect").QueryRowContext(b.ctx, id).Scan(&r.key, &r.state, &r.payer, &r.accountID, &r.max, &r.amount, &r.charge)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("upto authorization %d: %w", id, err)
	}
	return &r, nil
}

// exposure is an upto_exposure row as the current batch sees it: read
// once per batch, moved in memory by the batch's ops, and written once at
// its end (flushExposure), as accounts are. A batch's claims and captures
// of one payer then cost one read and one write of its row and of the
// total's, not one of each per op.
type exposure struct {
	open, failed  int64
	stored, dirty bool
}

// uptoExposure reads what a payer (or uptoTotal) has at risk.
func (b *batch) uptoExposure(payer string) (open, failed int64, err error) {
	x, err := b.exposureOf(payer)
	if err != nil {
		return 0, 0, err
	}
	return x.open, x.failed, nil
}

func (b *batch) exposureOf(payer string) (*exposure, error) {
	if x, ok := b.exposures[payer]; ok {
		return x, nil
	}
	x := &exposure{stored: true}
	err := b.stmt("uptoExposure").QueryRowContext(b.ctx, payer).Scan(&x.open, &x.failed)
	if errors.Is(err, sql.ErrNoRows) {
		x.stored, err = false, nil
	}
	if err != nil {
		return nil, fmt.Errorf("upto exposure of %s: %w", payer, err)
	}
	if b.exposures == nil {
		b.exposures = make(map[string]*exposure, 2)
	}
	b.exposures[payer] = x
	return x, nil
}

// uptoExpose moves what payer, and all payers, have at risk.
func (b *batch) uptoExpose(payer string, open, failed int64) error {
	return b.uptoExposeSplit(payer, open, open, failed)
}

// uptoExposeSplit is uptoExpose with the total's open moved apart from
// the payer's: a failed authorization leaves its payer's open exposure
// (the payer is refused by its failure count instead) but stays in the
// total's until it settles, so that max_unsettled bounds what payers
// cycling fresh addresses can be served and never pay (docs/security.md).
func (b *batch) uptoExposeSplit(payer string, open, totalOpen, failed int64) error {
	for _, p := range []string{payer, uptoTotal} {
		o := open
		if p == uptoTotal {
			o = totalOpen
		}
		if o == 0 && failed == 0 {
			continue
		}
		x, err := b.exposureOf(p)
		if err != nil {
			return err
		}
		x.open += o
		x.failed += failed
		x.dirty = true
	}
	return nil
}

// flushExposure writes the exposure rows the batch moved; the table's
// CHECKs (nothing below zero) fail the batch, whose ops are then retried
// one by one.
func (b *batch) flushExposure() error {
	for payer, x := range b.exposures {
		if !x.dirty {
			continue
		}
		name := "uptoExposeSet"
		if !x.stored {
			name = "uptoExposeNew"
		}
		if _, err := b.stmt(name).ExecContext(b.ctx, x.open, x.failed, payer); err != nil {
			return fmt.Errorf("upto exposure of %s: %w", payer, err)
		}
	}
	return nil
}

func usedPermit() error {
	return meter.Errorf(meter.ECodePaymentUsed, "this permit's nonce was already used; sign a new one")
}

// uptoKeyUsed reports whether an authorization holds key; an error
// reading counts as not, leaving the claim's own refusal to stand.
func (b *batch) uptoKeyUsed(key string) bool {
	var one int
	return b.stmt("uptoKeyUsed").QueryRowContext(b.ctx, key).Scan(&one) == nil
}

// ClaimUpto records a verified authorization, within its limits. Every
// check reads before anything is written, and the last, a nonce used
// before, is the insert's own unique index refusing it (a refusal for a
// cap looks the nonce up first, so that a replay is answered as one, as
// on PostgreSQL): an answer leaves no write behind in the batch.
func (l *Ledger) ClaimUpto(ctx context.Context, a *meter.UptoAuthorization, lim meter.UptoLimits) error {
	if a.Key == "" || a.Payer == "" || a.Network == "" || a.Max <= 0 {
		return fmt.Errorf("claim upto: key, payer, network and a positive max are required")
	}
	now := l.db.Now()
	return l.runFunc(func(b *batch) (outcome, err error) {
		if a.Identifier != "" { // before the nonce and the caps: a retry learns of its first answer
			if o, err := b.checkUptoIdentifier(a); o != nil || err != nil {
				return o, err
			}
		}
		if refused, err := b.uptoLimits(a, lim); refused != nil || err != nil {
			// A permit replayed by a payer at its cap is told it was used,
			// not to retry it: the lookup the usual claim does without.
			if err == nil && b.uptoKeyUsed(a.Key) {
				return usedPermit(), nil
			}
			return refused, err
		}
		acct, created, err := b.walletAccountID(a.Payer, now.UnixMilli())
		if err != nil {
			return nil, err
		}
		// The key's unique index finds a used nonce, in the insert's own
		// descent of it: a failed statement writes nothing, and the
		// payer's account, if looked up, existed before (its first claim
		// made it).
		res, err := b.stmt("uptoClaim").ExecContext(b.ctx, a.Key, a.Network, a.Token, a.Payer, acct, int64(a.Max),
			a.RequestID, a.Deadline.Unix(), string(a.Payload), string(a.Requirement), now.UnixMilli(), now.UnixMilli())
		if isConstraint(err, sqlite3.ErrConstraintUnique) {
			if created { // a key is the payer's own, so its account exists: fail the batch rather than keep a write behind an answer
				return nil, fmt.Errorf("claim upto: key %s used, yet its payer's account was new", a.Key)
			}
			return usedPermit(), nil
		}
		if err != nil {
			return nil, fmt.Errorf("claim upto: %w", err)
		}
		if err := b.uptoExpose(a.Payer, int64(a.Max), 0); err != nil {
			return nil, err
		}
		a.ID, _ = res.LastInsertId()
		if a.Identifier != "" {
			if err := b.claimUptoIdentifier(a, now.UnixMilli()); err != nil {
				return nil, err
			}
		}
		a.AccountID, a.State, a.CreatedAt, a.UpdatedAt = acct, meter.UptoClaimed, now, now
		return nil, nil
	})
}

// uptoLimits is ClaimUpto's decision: the payer's failed settlements, the
// caps, then its funds on chain, each against what it has at risk already.
func (b *batch) uptoLimits(a *meter.UptoAuthorization, lim meter.UptoLimits) (refused, err error) {
	open, failed, err := b.uptoExposure(a.Payer)
	if err != nil {
		return nil, err
	}
	total, _, err := b.uptoExposure(uptoTotal)
	if err != nil {
		return nil, err
	}
	after := meter.USDC(open) + a.Max
	switch {
	case failed > 0:
		return meter.Errorf(meter.ECodeUptoSettlementFailed,
			"an earlier upto payment of %s could not be settled; it is refused until that one settles (restore its balance and Permit2 allowance)", a.Payer).
			WithDetail("failed", failed), nil
	case after > lim.PerPayer:
		return meter.Errorf(meter.ECodeUptoLimitReached,
			"%s has %s USDC served and not yet settled; with this request's %s it would pass the limit of %s: retry once it settles, or pay with exact",
			a.Payer, meter.USDC(open), a.Max, lim.PerPayer).
			WithDetail("unsettled", meter.USDC(open).Amount()).WithDetail("limit", lim.PerPayer.Amount()), nil
	case meter.USDC(total)+a.Max > lim.Total:
		return meter.Errorf(meter.ECodeUptoCapacity, "this proxy has as much served and not yet settled as it allows; retry shortly, or pay with exact"), nil
	case after > lim.Balance:
		return meter.Errorf(meter.ECodeInvalidPayment, "the payer's token balance (%s USDC) does not cover %s USDC", lim.Balance, after).
			WithDetail("reason", meter.UptoShortBalance), nil
	case after > lim.Allowance:
		return meter.Errorf(meter.ECodeInvalidPayment, "the payer's allowance to Permit2 (%s USDC) does not cover %s USDC: approve Permit2 first", lim.Allowance, after).
			WithDetail("reason", meter.UptoShortAllowance), nil
	}
	return nil, nil
}

// uptoCharge is the part of a meter.Charge kept until the usage entry is
// booked, when the authorization settles.
type uptoCharge struct {
	RequestID string      `json:"requestId"`
	Model     string      `json:"model"`
	Usage     meter.Usage `json:"usage"`
	Estimated bool        `json:"estimated,omitempty"`
	Subject   string      `json:"subject,omitempty"`
	// Cost is the metered cost, before rounding to what is settled.
	Cost meter.Amount `json:"cost"`
}

// CaptureUpto records the metered charge of a claimed authorization.
func (l *Ledger) CaptureUpto(ctx context.Context, id int64, c meter.Charge, amount meter.USDC) error {
	if c.Cost < 0 || amount < 0 {
		return fmt.Errorf("capture upto %d: negative cost or amount", id)
	}
	charge, err := json.Marshal(uptoCharge{RequestID: c.RequestID, Model: c.Model, Usage: c.Usage, Estimated: c.Estimated,
		Subject: c.Subject, Cost: c.Cost})
	if err != nil {
		return err
	}
	now := l.db.Now().UnixMilli()
	return l.runFunc(func(b *batch) (outcome, err error) {
		r, err := b.uptoRow(id)
		if err != nil || r == nil {
			return uptoNotFound(id, r), err
		}
		if r.state != string(meter.UptoClaimed) {
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s, not claimed", id, r.state), nil
		}
		if int64(amount) > r.max {
			return nil, fmt.Errorf("capture upto %d: amount %d above the authorized %d", id, amount, r.max)
		}
		if amount > 0 {
			_, err = b.stmt("uptoCapture").ExecContext(b.ctx, int64(c.Cost), int64(amount), now, id)
		} else { // nothing to settle: released, final
			_, err = b.stmt("uptoCaptureNothing").ExecContext(b.ctx, int64(c.Cost), int64(amount), now, now, id)
		}
		if err != nil {
			return nil, fmt.Errorf("capture upto %d: %w", id, err)
		}
		if _, err := b.stmt("uptoCharge").ExecContext(b.ctx, id, string(charge)); err != nil {
			return nil, fmt.Errorf("capture upto %d: %w", id, err)
		}
		return nil, b.uptoExpose(r.payer, int64(amount)-r.max, 0)
	})
}

func uptoNotFound(id int64, r *uptoRow) error {
	if r != nil {
		return nil
	}
	return meter.Errorf(meter.ECodeNotFound, "upto authorization %d not found", id)
}

// ReleaseUpto releases a claimed authorization.
func (l *Ledger) ReleaseUpto(ctx context.Context, id int64) error {
	now := l.db.Now().UnixMilli()
	return l.runFunc(func(b *batch) (outcome, err error) {
		r, err := b.uptoRow(id)
		if err != nil || r == nil {
			return uptoNotFound(id, r), err
		}
		if r.state != string(meter.UptoClaimed) {
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s, not claimed", id, r.state), nil
		}
		if _, err := b.stmt("uptoState").ExecContext(b.ctx, string(meter.UptoReleased), "", "", now, id); err != nil {
			return nil, fmt.Errorf("release upto %d: %w", id, err)
		}
		return nil, b.uptoExpose(r.payer, -r.max, 0)
	})
}

// MarkUpto records a settlement attempt's state. Moves: due or settling →
// settling (a transaction sent), → failed (the amount
// leaves the open exposure, the payer's failures count one more), → due
// (an attempt lost, to be made again); failed → failed (a retry of a
// failed one, refused again, or its transaction recorded).
func (l *Ledger) MarkUpto(ctx context.Context, id int64, state meter.UptoState, txHash, reason string) error {
	now := l.db.Now().UnixMilli()
	return l.runFunc(func(b *batch) (outcome, err error) {
		r, err := b.uptoRow(id)
		if err != nil || r == nil {
			return uptoNotFound(id, r), err
		}
		from, to := meter.UptoState(r.state), state
		open := from == meter.UptoDue || from == meter.UptoSettling
		var failed int64
		switch {
		case open && (to == meter.UptoSettling || to == meter.UptoDue):
		case open && to == meter.UptoFailed:
			failed = 1
		case from == meter.UptoFailed && to == meter.UptoFailed:
		default:
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s; it cannot become %s", id, from, to), nil
		}
		if _, err := b.stmt("uptoState").ExecContext(b.ctx, string(to), txHash, reason, now, id); err != nil {
			return nil, fmt.Errorf("mark upto %d: %w", id, err)
		}
		if failed == 1 {
			return nil, b.uptoExposeSplit(r.payer, -r.amount, 0, 1) // still unsettled in the total
		}
		return nil, nil
	})
}

// WriteOffUpto implements meter.UptoLedger: the failed authorization's
// amount leaves the total exposure, and its payer's failures count one
// fewer.
func (l *Ledger) WriteOffUpto(ctx context.Context, id int64, reason string) error {
	now := l.db.Now()
	return l.runFunc(func(b *batch) (outcome, err error) {
		r, err := b.uptoRow(id)
		if err != nil || r == nil {
			return uptoNotFound(id, r), err
		}
		var deadline int64
		if err := b.stmt("uptoDeadline").QueryRowContext(b.ctx, id).Scan(&deadline); err != nil {
			return nil, fmt.Errorf("write off upto %d: %w", id, err)
		}
		if refused := meter.UptoWriteOffRefused(id, meter.UptoState(r.state), time.Unix(deadline, 0), now); refused != nil {
			return refused, nil
		}
		if _, err := b.stmt("uptoState").ExecContext(b.ctx, string(meter.UptoReleased), "", "written off: "+reason, now.UnixMilli(), id); err != nil {
			return nil, fmt.Errorf("write off upto %d: %w", id, err)
		}
		return nil, b.uptoExposeSplit(r.payer, 0, -r.amount, -1)
	})
}

// BeginUpto counts an attempt at settling an authorization.
func (l *Ledger) BeginUpto(ctx context.Context, id int64) error {
	now := l.db.Now().UnixMilli()
	return l.runFunc(func(b *batch) (outcome, err error) {
		res, err := b.stmt("uptoBegin").ExecContext(b.ctx, now, id)
		if err != nil {
			return nil, fmt.Errorf("begin upto %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is not due, settling or failed", id), nil
		}
		return nil, nil
	})
}

// SettleUpto marks the authorization settled and books its payment and
// usage on the payer's account: they cancel out, so upto never makes or
// spends a balance, and the journal shows what was paid for what.
func (l *Ledger) SettleUpto(ctx context.Context, id int64, txHash string) error {
	now := l.db.Now().UnixMilli()
	return l.runFunc(func(b *batch) (outcome, err error) {
		r, err := b.uptoRow(id)
		if err != nil || r == nil {
			return uptoNotFound(id, r), err
		}
		var open, failed int64
		totalOpen := -r.amount
		switch meter.UptoState(r.state) {
		case meter.UptoSettled:
			return nil, nil // settled and booked before
		case meter.UptoDue, meter.UptoSettling:
			open = -r.amount
		case meter.UptoFailed:
			failed = -1 // its amount left the payer's open exposure, not the total's
		default:
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s; it cannot be settled", id, r.state), nil
		}
		if r.amount <= 0 {
			return nil, fmt.Errorf("settle upto %d: nothing to settle", id)
		}
		var c uptoCharge
		if err := json.Unmarshal([]byte(r.charge), &c); err != nil {
			return nil, fmt.Errorf("settle upto %d: stored charge: %w", id, err)
		}
		paid, ref := meter.USDC(r.amount).Amount(), "upto:"+r.key
		if err := b.creditEntry(r.accountID, meter.EntryPayment, paid, ref, meter.Charge{}, now); err != nil {
			return nil, err
		}
		usage := meter.Charge{RequestID: c.RequestID, Model: c.Model, Usage: c.Usage, Estimated: c.Estimated, Subject: c.Subject}
		if err := b.creditEntry(r.accountID, meter.EntryUsage, -paid, ref, usage, now); err != nil {
			return nil, err
		}
		if _, err := b.stmt("uptoSettle").ExecContext(b.ctx, txHash, now, id); err != nil {
			return nil, fmt.Errorf("settle upto %d: %w", id, err)
		}
		return nil, b.uptoExposeSplit(r.payer, open, totalOpen, failed)
	})
}
