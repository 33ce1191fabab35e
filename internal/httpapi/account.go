package httpapi

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paymeter/paymeter/internal/meter"
)

// accountJSON is an account as the API shows it: amounts as decimal strings.
type accountJSON struct {
	ID                 int64        `json:"id"`
	Kind               string       `json:"kind"`
	Name               string       `json:"name,omitempty"`
	Address            string       `json:"address,omitempty"`
	Balance            meter.Amount `json:"balance"`
	Available          meter.Amount `json:"available"`
	Held               meter.Amount `json:"held"`
	FreeCreditsGranted meter.Amount `json:"freeCreditsGranted"`
	CreatedAt          time.Time    `json:"createdAt"`
}

func toAccountJSON(a *meter.Account) accountJSON {
	return accountJSON{ID: a.ID, Kind: string(a.Kind), Name: a.Name, Address: a.Address, Balance: a.Balance,
		Available: a.Available(), Held: a.Held, FreeCreditsGranted: a.FreeGranted, CreatedAt: a.CreatedAt}
}

// subjectJSON is what a sub-principal (a JWT user, a session token) sees
// of its account: its own spending and cap, never the balance of the app
// that pays for it. Cap and Remaining are null without a cap; Held is
// null when no cap counts its holds.
type subjectJSON struct {
	Kind      string        `json:"kind"`
	Subject   string        `json:"subject"`
	Cap       *meter.Amount `json:"cap"`
	Spent     meter.Amount  `json:"spent"`
	Held      *meter.Amount `json:"held"`
	Remaining *meter.Amount `json:"remaining"`
	// Since is when the cap's count starts (a JWT user's UTC day).
	Since *time.Time `json:"since,omitempty"`
}

// getSubject answers GET /api/v1/account for a sub-principal.
func (s *Server) getSubject(c *fiber.Ctx, p *meter.Principal) error {
	budget := meter.Budget{Subject: p.Subject}
	if p.Budget != nil {
		budget = *p.Budget
	}
	use, err := s.Ledger.FindBudgetUse(c.UserContext(), p.AccountID, budget)
	if err != nil {
		return err
	}
	out := subjectJSON{Kind: string(p.Kind), Subject: p.Subject, Spent: use.Spent}
	if p.Budget != nil {
		left := max(0, budget.Cap-use.Spent-use.Held)
		out.Cap, out.Held, out.Remaining = &budget.Cap, &use.Held, &left
	}
	if !budget.Since.IsZero() {
		out.Since = &budget.Since
	}
	return c.JSON(out)
}

// getAccount serves GET /api/v1/account for any authenticated principal;
// a sub-principal sees only its own part (getSubject).
func (s *Server) getAccount(c *fiber.Ctx) error {
	if p := principalOf(c); p.Subject != "" {
		return s.getSubject(c, p)
	}
	a, err := s.Ledger.FindAccountByID(c.UserContext(), principalOf(c).AccountID)
	if err != nil {
		return err
	}
	return c.JSON(toAccountJSON(a))
}

type entryJSON struct {
	ID           int64        `json:"id"`
	Kind         string       `json:"kind"`
	Amount       meter.Amount `json:"amount"`
	RequestID    string       `json:"requestId,omitempty"`
	Model        string       `json:"model,omitempty"`
	InputTokens  int64        `json:"inputTokens,omitempty"`
	OutputTokens int64        `json:"outputTokens,omitempty"`
	// The usage's other parts (docs/design.md §2): inputTokens is the
	// uncached input; reasoningTokens are part of outputTokens.
	CachedInputTokens  int64     `json:"cachedInputTokens,omitempty"`
	CacheWriteTokens   int64     `json:"cacheWriteTokens,omitempty"`
	CacheWrite1hTokens int64     `json:"cacheWrite1hTokens,omitempty"`
	ReasoningTokens    int64     `json:"reasoningTokens,omitempty"`
	Images             int64     `json:"images,omitempty"`
	Estimated          bool      `json:"estimated,omitempty"`
	Subject            string    `json:"subject,omitempty"`
	CreatedAt          time.Time `json:"createdAt"`
}

// getUsage serves GET /api/v1/usage?limit=&cursor=: the principal's
// journal, newest first; nextCursor, when present, fetches the next page.
// A sub-principal's journal is its own entries only: those whose subject
// it is.
func (s *Server) getUsage(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	cursor, err := queryInt(c, "cursor", 0, 1, 1<<62)
	if err != nil {
		return err
	}
	p := principalOf(c)
	entries, err := s.Ledger.FindEntries(c.UserContext(), meter.EntryFilter{AccountID: p.AccountID, Subject: p.Subject,
		BeforeID: int64(cursor), Limit: limit + 1})
	if err != nil {
		return err
	}
	out := struct {
		Data       []entryJSON `json:"data"`
		NextCursor *string     `json:"nextCursor"`
	}{Data: make([]entryJSON, 0, min(len(entries), limit))}
	for i, e := range entries {
		if i == limit {
			next := strconv.FormatInt(entries[i-1].ID, 10)
			out.NextCursor = &next
			break
		}
		out.Data = append(out.Data, entryJSON{ID: e.ID, Kind: string(e.Kind), Amount: e.Amount, RequestID: e.RequestID, Model: e.Model,
			InputTokens: e.Usage.InputTokens, OutputTokens: e.Usage.OutputTokens, CachedInputTokens: e.Usage.CachedInputTokens,
			CacheWriteTokens: e.Usage.CacheWriteTokens, CacheWrite1hTokens: e.Usage.CacheWrite1hTokens,
			ReasoningTokens: e.Usage.ReasoningTokens, Images: e.Usage.Images,
			Estimated: e.Estimated, Subject: e.Subject, CreatedAt: e.CreatedAt})
	}
	return c.JSON(out)
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(c *fiber.Ctx, name string, def, lo, hi int64) (int, error) {
	v := c.Query(name)
	if v == "" {
		return int(def), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, meter.Errorf(meter.ECodeBadRequest, "%q must be an integer from %d to %d", name, lo, hi)
	}
	return int(n), nil
}

// siweNonce serves GET /api/auth/siwe/nonce.
func (s *Server) siweNonce(c *fiber.Ctx) error {
	r, err := s.SignIn.NewNonce(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(r)
}

// siweVerify serves POST /api/auth/siwe/verify {message, signature}.
func (s *Server) siweVerify(c *fiber.Ctx) error {
	var body struct {
		Message   string `json:"message"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil {
		return meter.Errorf(meter.ECodeBadRequest, "the body must be JSON {\"message\": …, \"signature\": …}")
	}
	if body.Message == "" || body.Signature == "" {
		return meter.Errorf(meter.ECodeBadRequest, "both \"message\" and \"signature\" are required")
	}
	r, err := s.SignIn.Verify(c.UserContext(), body.Message, body.Signature, s.clientIP(c).String())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"apiKey": r.APIKey, "address": r.Address, "isNewAccount": r.IsNewAccount, "account": toAccountJSON(r.Account)})
}
