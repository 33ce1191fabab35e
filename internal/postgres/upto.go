package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paymeter/paymeter/internal/meter"
)

// x402 upto authorizations (docs/design.md §5) on PostgreSQL: SQLite's
// states, moves, caps and refusals (internal/sqlite/upto.go), each move
// one transaction of its own. Locks are taken in one order everywhere so
// that instances never deadlock: the authorization's row, then the
// payer's upto_exposure row, then the total's ('*'), then (SettleUpto
// only) the payer's account, last, as the writer's batches lock accounts.

var _ meter.UptoLedger = (*Ledger)(nil)

// uptoTotal is the upto_exposure row of all payers together.
const uptoTotal = "*"

// uptoRow is what a move reads of an authorization, under its lock.
type uptoRow struct {
	key, state, payer, charge string
	accountID, max, amount    int64
	attempts                  int64
}

// lockUpto reads authorization id under a lock held until the
// transaction ends; nil if there is none.
func lockUpto(ctx context.Context, tx pgx.Tx, id int64) (*uptoRow, error) {
	var r uptoRow
	err := tx.QueryRow(ctx, `SELECT key, state, payer, account_id, max, amount, attempts, `+uptoChargeColumn+`
		FROM upto_authorizations WHERE id = $1 FOR UPDATE`, id).
		Scan(&r.key, &r.state, &r.payer, &r.accountID, &r.max, &r.amount, &r.attempts, &r.charge)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, meter.Errorf(meter.ECodeNotFound, "upto authorization %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("upto authorization %d: %w", id, err)
	}
	return &r, nil
}

// lockExposure reads what payer (or uptoTotal) has at risk, creating its
// row if it has none, under a lock held until the transaction ends: the
// claims of one payer, and the caps of all, are decided one at a time
// across instances.
func lockExposure(ctx context.Context, tx pgx.Tx, payer string) (open, failed int64, err error) {
	if _, err := tx.Exec(ctx, `INSERT INTO upto_exposure (payer) VALUES ($1) ON CONFLICT (payer) DO NOTHING`, payer); err != nil {
		return 0, 0, fmt.Errorf("upto exposure of %s: %w", payer, err)
	}
	err = tx.QueryRow(ctx, `SELECT open, failed FROM upto_exposure WHERE payer = $1 FOR UPDATE`, payer).Scan(&open, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("upto exposure of %s: %w", payer, err)
	}
	return open, failed, nil
}

// uptoExposeSplit moves what payer, and all payers, have at risk: payer's
// row first, then the total's. A failed authorization leaves its payer's
// open exposure (the payer is refused by its failure count instead) but
// stays in the total's until it settles, so that max_unsettled bounds
// what payers cycling fresh addresses can be served and never pay
// (docs/security.md).
func uptoExposeSplit(ctx context.Context, tx pgx.Tx, payer string, open, totalOpen, failed int64) error {
	for _, p := range []string{payer, uptoTotal} {
		o := open
		if p == uptoTotal {
			o = totalOpen
		}
		if o == 0 && failed == 0 {
			continue
		}
		// Not an upsert: its insert would check the CHECKs on the row it
		// does not insert.
		res, err := tx.Exec(ctx, `UPDATE upto_exposure SET open = open + $1, failed = failed + $2 WHERE payer = $3`, o, failed, p)
		if err == nil && res.RowsAffected() == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO upto_exposure (payer, open, failed) VALUES ($1, $2, $3)`, p, o, failed)
		}
		if err != nil {
			return fmt.Errorf("upto exposure of %s: %w", p, err)
		}
	}
	return nil
}

// ClaimUpto records a verified authorization, within its limits. The
// payer's exposure row and then the total's are locked first, so every
// check after reads what no other instance can move until this commits;
// a refusal rolls everything back.
func (l *Ledger) ClaimUpto(ctx context.Context, a *meter.UptoAuthorization, lim meter.UptoLimits) error {
	if a.Key == "" || a.Payer == "" || a.Network == "" || a.Max <= 0 {
		return fmt.Errorf("claim upto: key, payer, network and a positive max are required")
	}
	now := l.Now()
	var id, acct int64
	err := l.inTx(ctx, func(tx pgx.Tx) error {
		open, failed, err := lockExposure(ctx, tx, a.Payer)
		if err != nil {
			return err
		}
		total, _, err := lockExposure(ctx, tx, uptoTotal)
		if err != nil {
			return err
		}
		if a.Identifier != "" { // before the nonce and the caps: a retry learns of its first answer
			if err := checkUptoIdentifier(ctx, tx, a); err != nil {
				return err
			}
		}
		var used int
		switch err := tx.QueryRow(ctx, `SELECT 1 FROM upto_authorizations WHERE key = $1`, a.Key).Scan(&used); {
		case err == nil:
			return uptoKeyUsed()
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("claim upto: %w", err)
		}
		if err := uptoLimits(a, lim, open, failed, total); err != nil {
			return err
		}
		if acct, err = uptoWalletID(ctx, tx, a.Payer, now.UnixMilli()); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO upto_authorizations (key, network, token, payer, account_id, max, state, request_id,
			deadline, payload, requirement, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'claimed', $7, $8, $9, $10, $11, $11)
			ON CONFLICT (key) DO NOTHING RETURNING id`,
			a.Key, a.Network, a.Token, a.Payer, acct, int64(a.Max), a.RequestID, a.Deadline.Unix(),
			string(a.Payload), string(a.Requirement), now.UnixMilli()).Scan(&id)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // a key claimed under another payer's row lock
			return uptoKeyUsed()
		case err != nil:
			return fmt.Errorf("claim upto: %w", err)
		}
		if err := uptoExposeSplit(ctx, tx, a.Payer, int64(a.Max), int64(a.Max), 0); err != nil {
			return err
		}
		if a.Identifier != "" {
			return claimUptoIdentifier(ctx, tx, a, id, now.UnixMilli())
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.ID, a.AccountID, a.State, a.CreatedAt, a.UpdatedAt = id, acct, meter.UptoClaimed, now, now
	return nil
}

func uptoKeyUsed() error {
	return meter.Errorf(meter.ECodePaymentUsed, "this permit's nonce was already used; sign a new one")
}

// uptoLimits is ClaimUpto's decision: the payer's failed settlements, the
// caps, then its funds on chain, each against what it has at risk already.
func uptoLimits(a *meter.UptoAuthorization, lim meter.UptoLimits, open, failed, total int64) error {
	after := meter.USDC(open) + a.Max
	switch {
	case failed > 0:
		return meter.Errorf(meter.ECodeUptoSettlementFailed,
			"an earlier upto payment of %s could not be settled; it is refused until that one settles (restore its balance and Permit2 allowance)", a.Payer).
			WithDetail("failed", failed)
	case after > lim.PerPayer:
		return meter.Errorf(meter.ECodeUptoLimitReached,
			"%s has %s USDC served and not yet settled; with this request's %s it would pass the limit of %s: retry once it settles, or pay with exact",
			a.Payer, meter.USDC(open), a.Max, lim.PerPayer).
			WithDetail("unsettled", meter.USDC(open).Amount()).WithDetail("limit", lim.PerPayer.Amount())
	case meter.USDC(total)+a.Max > lim.Total:
		return meter.Errorf(meter.ECodeUptoCapacity, "this proxy has as much served and not yet settled as it allows; retry shortly, or pay with exact")
	case after > lim.Balance:
		return meter.Errorf(meter.ECodeInvalidPayment, "the payer's token balance (%s USDC) does not cover %s USDC", lim.Balance, after).
			WithDetail("reason", meter.UptoShortBalance)
	case after > lim.Allowance:
		return meter.Errorf(meter.ECodeInvalidPayment, "the payer's allowance to Permit2 (%s USDC) does not cover %s USDC: approve Permit2 first", lim.Allowance, after).
			WithDetail("reason", meter.UptoShortAllowance)
	}
	return nil
}

// uptoWalletID finds the payer's wallet account or creates it without
// free credits, as SQLite's walletAccountID: a wallet first seen through
// a payment gets none, then or later. The address is UNIQUE, so two
// instances creating it at once make one account.
func uptoWalletID(ctx context.Context, tx pgx.Tx, address string, now int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', $1, $2)
		ON CONFLICT (address) DO NOTHING RETURNING id`, address, now).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = tx.QueryRow(ctx, `SELECT id FROM accounts WHERE address = $1`, address).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("wallet account of %s: %w", address, err)
	}
	return id, nil
}

// uptoCharge is the part of a meter.Charge kept until the usage entry is
// booked, when the authorization settles: SQLite's JSON, field for field.
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
	now := l.Now().UnixMilli()
	return l.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockUpto(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.state != string(meter.UptoClaimed) {
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s, not claimed", id, r.state)
		}
		if int64(amount) > r.max {
			return fmt.Errorf("capture upto %d: amount %d above the authorized %d", id, amount, r.max)
		}
		state := meter.UptoDue
		if amount == 0 {
			state = meter.UptoReleased
		}
		// closed_at marks the final states (migration 0016).
		if _, err := tx.Exec(ctx, `UPDATE upto_authorizations SET state = $1, cost = $2, amount = $3, updated_at = $4,
			closed_at = CASE WHEN $1 = 'released' THEN $4::bigint END WHERE id = $5`,
			string(state), int64(c.Cost), int64(amount), now, id); err != nil {
			return fmt.Errorf("capture upto %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO upto_charges (upto_id, charge) VALUES ($1, $2)`, id, string(charge)); err != nil {
			return fmt.Errorf("capture upto %d: %w", id, err)
		}
		moved := int64(amount) - r.max
		return uptoExposeSplit(ctx, tx, r.payer, moved, moved, 0)
	})
}

// ReleaseUpto releases a claimed authorization.
func (l *Ledger) ReleaseUpto(ctx context.Context, id int64) error {
	now := l.Now().UnixMilli()
	return l.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockUpto(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.state != string(meter.UptoClaimed) {
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s, not claimed", id, r.state)
		}
		if err := setUptoState(ctx, tx, id, meter.UptoReleased, "", "", now); err != nil {
			return fmt.Errorf("release upto %d: %w", id, err)
		}
		return uptoExposeSplit(ctx, tx, r.payer, -r.max, -r.max, 0)
	})
}

// setUptoState moves an authorization's state, keeping its transaction
// hash when txHash is "".
func setUptoState(ctx context.Context, tx pgx.Tx, id int64, state meter.UptoState, txHash, reason string, now int64) error {
	_, err := tx.Exec(ctx, `UPDATE upto_authorizations SET state = $1, tx_hash = CASE WHEN $2 = '' THEN tx_hash ELSE $2 END,
		reason = $3, updated_at = $4, closed_at = CASE WHEN $1 IN ('settled', 'released') THEN $4::bigint ELSE closed_at END
		WHERE id = $5`, string(state), txHash, reason, now, id)
	return err
}

// MarkUpto records a settlement attempt's state. Moves: due or settling →
// settling (a transaction sent), → failed (the amount leaves the payer's
// open exposure, the payer's failures count one more), → due (an attempt
// lost, to be made again); failed → failed (a retry of a failed one,
// refused again, or its transaction recorded).
func (l *Ledger) MarkUpto(ctx context.Context, id int64, state meter.UptoState, txHash, reason string) error {
	now := l.Now().UnixMilli()
	return l.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockUpto(ctx, tx, id)
		if err != nil {
			return err
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
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s; it cannot become %s", id, from, to)
		}
		if err := setUptoState(ctx, tx, id, to, txHash, reason, now); err != nil {
			return fmt.Errorf("mark upto %d: %w", id, err)
		}
		if failed == 1 {
			return uptoExposeSplit(ctx, tx, r.payer, -r.amount, 0, 1) // still unsettled in the total
		}
		return nil
	})
}

// WriteOffUpto implements meter.UptoLedger, as on SQLite.
func (l *Ledger) WriteOffUpto(ctx context.Context, id int64, reason string) error {
	now := l.Now()
	return l.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockUpto(ctx, tx, id)
		if err != nil {
			return err
		}
		var deadline int64
		if err := tx.QueryRow(ctx, `SELECT deadline FROM upto_authorizations WHERE id = $1`, id).Scan(&deadline); err != nil {
			return fmt.Errorf("write off upto %d: %w", id, err)
		}
		if refused := meter.UptoWriteOffRefused(id, meter.UptoState(r.state), time.Unix(deadline, 0), now); refused != nil {
			return refused
		}
		if err := setUptoState(ctx, tx, id, meter.UptoReleased, "", "written off: "+reason, now.UnixMilli()); err != nil {
			return fmt.Errorf("write off upto %d: %w", id, err)
		}
		return uptoExposeSplit(ctx, tx, r.payer, 0, -r.amount, -1)
	})
}

// SettleUpto marks the authorization settled and books its payment and
// usage on the payer's account: they cancel out, so upto never makes or
// spends a balance, and the journal shows what was paid for what. The
// authorization's row lock makes a second settlement, on any instance,
// wait for the first and then find it settled: booked once.
func (l *Ledger) SettleUpto(ctx context.Context, id int64, txHash string) error {
	now := l.Now().UnixMilli()
	return l.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockUpto(ctx, tx, id)
		if err != nil {
			return err
		}
		var open, failed int64
		totalOpen := -r.amount
		switch meter.UptoState(r.state) {
		case meter.UptoSettled:
			return nil // settled and booked before
		case meter.UptoDue, meter.UptoSettling:
			open = -r.amount
		case meter.UptoFailed:
			failed = -1 // its amount left the payer's open exposure, not the total's
		default:
			return meter.Errorf(meter.ECodeConflict, "upto authorization %d is %s; it cannot be settled", id, r.state)
		}
		if r.amount <= 0 {
			return fmt.Errorf("settle upto %d: nothing to settle", id)
		}
		var c uptoCharge
		if err := json.Unmarshal([]byte(r.charge), &c); err != nil {
			return fmt.Errorf("settle upto %d: stored charge: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE upto_authorizations SET state = 'settled', tx_hash = $1, reason = '', settled_at = $2,
			updated_at = $2, closed_at = $2 WHERE id = $3`, txHash, now, id); err != nil {
			return fmt.Errorf("settle upto %d: %w", id, err)
		}
		if err := uptoExposeSplit(ctx, tx, r.payer, open, totalOpen, failed); err != nil {
			return err
		}
		usage := meter.Charge{RequestID: c.RequestID, Model: c.Model, Usage: c.Usage, Estimated: c.Estimated, Subject: c.Subject}
		return bookUpto(ctx, tx, r.accountID, meter.USDC(r.amount).Amount(), "upto:"+r.key, usage, now)
	})
}

// bookUpto books a settled authorization's payment and usage of paid on
// its payer's account, locked last.
func bookUpto(ctx context.Context, tx pgx.Tx, accountID int64, paid meter.Amount, ref string, usage meter.Charge, now int64) error {
	a, err := lockAccount(ctx, tx, accountID)
	if err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("account %d not found", accountID)
	}
	for _, e := range []struct {
		kind   meter.EntryKind
		amount meter.Amount
		c      meter.Charge
	}{{meter.EntryPayment, paid, meter.Charge{}}, {meter.EntryUsage, -paid, usage}} {
		_, booked, err := bookEntry(ctx, tx, accountID, a, e.kind, e.amount, ref, e.c, now)
		if err == nil && !booked {
			err = fmt.Errorf("%s entry %s already exists", e.kind, ref)
		}
		if err != nil {
			return err
		}
	}
	return saveAccount(ctx, tx, accountID, a)
}
