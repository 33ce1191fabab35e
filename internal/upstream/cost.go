package upstream

import "github.com/paymeter/paymeter/internal/meter"

// chatWithCost is WithCost for chat and completions.
func chatWithCost(data []byte, cost meter.Amount) []byte { return data }
