package upstream

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// sdkData joins an event's data lines as an SSE client does.
func sdkData(ev []byte) []byte {
	var lines [][]byte
	for _, l := range bytes.Split(ev, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if v, ok := bytes.CutPrefix(l, []byte("data")); ok && (len(v) == 0 || v[0] == ':') {
			if len(v) > 0 {
				v = bytes.TrimPrefix(v[1:], []byte(" "))
			}
			lines = append(lines, v)
		}
	}
	return bytes.Join(lines, []byte("\n"))
}

// The final event of a stream split over data lines at random places
// (LF or CRLF, "data:" with and without its space, comment lines between),
// with the upstream's own paymeter_cost before, after and twice: the
// spliced event, joined as an SSE client joins it, is valid JSON with the
// one paymeter_cost this proxy charged, or the event is left as it was
// (an edit that would span lines). Found by review, kept as a property.
func TestWithCost_EventSplitOverDataLines(t *testing.T) {
	docs := []string{
		`{"type":"response.completed","sequence_number":9,"response":{"id":"r","usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"paymeter_cost":"9","total_tokens":7}}}`,
		`{"type":"response.completed","response":{"usage":{"paymeter_cost":"9","input_tokens":5,"output_tokens":2}}}`,
		`{"type":"response.completed","response":{"usage":{"input_tokens":5,"paymeter_cost":"9","paymeter_cost":"8","output_tokens":2}}}`,
		`{"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":2,"paymeter_cost":"9"}}}`,
		`{"type":"response.completed","response":{"usage":{"paymeter_cost":"9"},"usage":{"input_tokens":5,"output_tokens":2}}}`,
	}
	cost := credits(t, "0.5")
	rng := rand.New(rand.NewSource(1))
	bad := 0
	for _, doc := range docs {
		// split points: after , : { [
		var cuts []int
		for i, c := range doc {
			if c == ',' || c == ':' || c == '{' {
				cuts = append(cuts, i+1)
			}
		}
		for iter := 0; iter < 3000; iter++ {
			var b strings.Builder
			eol := "\n"
			if rng.Intn(2) == 0 {
				eol = "\r\n"
			}
			b.WriteString("event: response.completed" + eol + "data: ")
			last := 0
			for _, c := range cuts {
				if rng.Intn(4) == 0 {
					b.WriteString(doc[last:c] + eol)
					switch rng.Intn(3) {
					case 0:
						b.WriteString("data: ")
					case 1:
						b.WriteString("data:")
					default:
						b.WriteString(": comment" + eol + "data: ")
					}
					last = c
				}
			}
			b.WriteString(doc[last:] + eol + eol)
			ev := []byte(b.String())
			m := &StreamMeter{API: APIResponses}
			m.Observe(ev)
			if !m.UsageEvent() {
				t.Fatalf("no usage event: %q", ev)
			}
			out := WithCost(APIResponses, ev, cost)
			d := sdkData(out)
			if !json.Valid(d) {
				bad++
				if bad < 4 {
					t.Errorf("invalid JSON after splice:\nin:  %q\nout: %q", ev, out)
				}
				continue
			}
			if bytes.Equal(out, ev) {
				continue // not spliced (an edit spanned lines)
			}
			if costIn(t, d) != "0.5" {
				bad++
				if bad < 4 {
					t.Errorf("paymeter_cost %q, want 0.5:\nin:  %q\nout: %q", costIn(t, d), ev, out)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d bad splices", bad)
	}
}

// manyLinesEvent is a chat usage chunk over n data lines, each holding one
// paymeter_cost member of the upstream's to drop.
func manyLinesEvent(n int) []byte {
	var b strings.Builder
	b.WriteString(`data: {"usage":{"prompt_tokens":5,"completion_tokens":2`)
	for range n {
		b.WriteString("\ndata: ,\"k\":1,\"paymeter_cost\":\"1\"")
	}
	b.WriteString("}}\n\n")
	return []byte(b.String())
}

// An event of many data lines, each with a member to drop, is spliced
// right: every upstream paymeter_cost dropped, ours written once. (It
// used to cost lines × edits; BenchmarkWithCostManyLines shows it is
// linear now.)
func TestWithCost_ManyDataLines(t *testing.T) {
	out := chatWithCost(manyLinesEvent(2000), credits(t, "0.5"))
	d := sdkData(out)
	if !json.Valid(d) || bytes.Count(d, []byte(costField)) != 1 || costIn(t, bytes.TrimSuffix(d, []byte("\n\n"))) != "0.5" {
		t.Fatalf("spliced event %q…: want valid JSON with one paymeter_cost of 0.5", d[:min(len(d), 200)])
	}
}

func BenchmarkWithCostManyLines(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		ev := manyLinesEvent(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				chatWithCost(ev, 500_000_000)
			}
		})
	}
}
