package upstream

import "github.com/paymeter/paymeter/internal/meter"

// inspectMessages is InspectRequest for the Anthropic Messages API.
func inspectMessages(body []byte) (RequestInfo, error) {
	return RequestInfo{}, meter.Errorf(meter.ECodeBadRequest, "/v1/messages is not metered yet")
}

// parseMessagesAnswer is ParseResponse for an Anthropic Messages response.
func parseMessagesAnswer(body []byte) (meter.Usage, []byte, bool) { return meter.Usage{}, nil, false }

// observeMessages meters one Anthropic Messages stream event's data.
func (m *StreamMeter) observeMessages(data []byte) {}

// messagesWithCost is WithCost for the Messages API.
func messagesWithCost(data []byte, cost meter.Amount) []byte { return data }
