package meter

// The charging rules of a metered request (docs/design.md §2), apart from
// the reading of requests and answers (the worst case of a request and the
// estimate of an answer's usage are the upstream package's: they need the
// API's request and event formats).

// Metered is what a request is charged for usage u at price, before its
// Payer caps it at what it can pay. held is the request's worst case
// (Payer.Held), which bounds the true cost: an estimated usage, or under a
// spend cap (capped) a reported usage past it, is charged no more than
// held. A reported usage past the worst case without a cap is charged in
// full, as far as the payer reaches: the upstream billed it.
func Metered(price Price, u Usage, held Amount, estimated, capped bool) Amount {
	cost := price.Cost(u)
	if estimated || capped {
		cost = min(cost, held)
	}
	return cost
}

// ChargesUnreported reports whether a stream that ended without its
// usage is charged an estimate rather than released: always, unless
// nothing at all reached the client because the upstream failed first.
// A client that left is charged (the upstream bills the request anyway),
// and so is a stream paymeter cut itself (its time limit, shutdown): a
// reasoning model bills what it thought before its first visible token.
func ChargesUnreported(deliveredBytes int64, clientGone, cut bool) bool {
	return deliveredBytes != 0 || clientGone || cut
}
