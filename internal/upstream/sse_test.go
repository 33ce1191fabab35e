package upstream

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/paymeter/paymeter/internal/meter"
)

// pieceReader returns its data in pieces whose sizes cycle through sizes
// (each taken modulo 17, plus one), as a network connection might.
type pieceReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	size := 1
	if len(r.sizes) > 0 {
		size = int(r.sizes[r.i%len(r.sizes)]%17) + 1
		r.i++
	}
	size = min(size, len(p), len(r.data))
	copy(p, r.data[:size])
	r.data = r.data[size:]
	return size, nil
}

// readEvents reads every event, copying each, and returns the error that
// ended the stream.
func readEvents(r io.Reader, maxEvent int) ([]string, error) {
	er := NewEventReader(r, maxEvent)
	var events []string
	for {
		ev, err := er.Next()
		if err != nil {
			return events, err
		}
		events = append(events, string(ev))
	}
}

func TestEventReader(t *testing.T) {
	tests := []struct {
		name     string
		stream   string
		maxEvent int
		want     []string
		wantErr  error
	}{
		{"LF", "data: a\n\ndata: b\n\n", 0, []string{"data: a\n\n", "data: b\n\n"}, io.EOF},
		{"CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", 0, []string{"data: a\r\n\r\n", "data: b\r\n\r\n"}, io.EOF},
		{"mixed endings", "data: a\r\n\ndata: b\n\r\n", 0, []string{"data: a\r\n\n", "data: b\n\r\n"}, io.EOF},
		{"multi-line event", "event: x\ndata: a\ndata: b\n\n", 0, []string{"event: x\ndata: a\ndata: b\n\n"}, io.EOF},
		{"trailing partial", "data: a\n\ndata: b\n", 0, []string{"data: a\n\n", "data: b\n"}, io.EOF},
		{"no trailing newline", "data: a", 0, []string{"data: a"}, io.EOF},
		{"leading blank line", "\ndata: a\n\n", 0, []string{"\n", "data: a\n\n"}, io.EOF},
		{"lone CR is not a line end", "data: a\r\rdata: b\n\n", 0, []string{"data: a\r\rdata: b\n\n"}, io.EOF},
		{"CR CR LF is not blank", "data: a\n\r\r\n\n", 0, []string{"data: a\n\r\r\n\n"}, io.EOF},
		{"empty", "", 0, nil, io.EOF},
		{"at the limit", "data: a\n\n", 9, []string{"data: a\n\n"}, io.EOF},
		{"over the limit", "data: b\n\ndata: a\n\n", 8, nil, ErrEventTooLarge},
		{"later event over the limit", "data: a\n\ndata: bb\n\n", 9, []string{"data: a\n\n"}, ErrEventTooLarge},
		{"partial at the limit", "data: a\n\ndata: bc", 9, []string{"data: a\n\n", "data: bc"}, io.EOF},
		{"partial over the limit", "data: a\n\ndata: bcdefgh", 9, []string{"data: a\n\n"}, ErrEventTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readers := map[string]func() io.Reader{
				"whole":         func() io.Reader { return strings.NewReader(tt.stream) },
				"bytes":         func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.stream)) },
				"pieces":        func() io.Reader { return &pieceReader{data: []byte(tt.stream), sizes: []byte{2, 0, 5}} },
				"data with EOF": func() io.Reader { return iotest.DataErrReader(strings.NewReader(tt.stream)) },
			}
			for name, newReader := range readers {
				got, err := readEvents(newReader(), tt.maxEvent)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("%s: err=%v, want %v", name, err, tt.wantErr)
				}
				if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
					t.Fatalf("%s: events=%q, want %q", name, got, tt.want)
				}
			}
		})
	}
}

func TestEventReaderReadError(t *testing.T) {
	broken := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(broken))
	got, err := readEvents(r, 0)
	if !errors.Is(err, broken) {
		t.Fatalf("err=%v, want %v", err, broken)
	}
	if want := []string{"data: a\n\n"}; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("events=%q, want %q", got, want)
	}
	if _, err := NewEventReader(r, 0).Next(); !errors.Is(err, broken) {
		t.Fatalf("next err=%v, want %v", err, broken)
	}
}

func TestEventReaderNoProgress(t *testing.T) {
	_, err := readEvents(iotest.ErrReader(nil), 0)
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err=%v, want %v", err, io.ErrNoProgress)
	}
}

// meterStream runs a whole stream through an EventReader and a StreamMeter.
func meterStream(tb testing.TB, stream []byte) *StreamMeter {
	tb.Helper()
	events, err := readEvents(bytes.NewReader(stream), 0)
	if err != io.EOF {
		tb.Fatalf("err=%v, want EOF", err)
	}
	var m StreamMeter
	for _, ev := range events {
		m.Observe([]byte(ev))
	}
	return &m
}

func TestStreamMeter(t *testing.T) {
	tests := []struct {
		name          string
		stream        string
		wantUsage     meter.Usage
		wantOK        bool
		wantDelivered int64
		wantDone      bool
	}{
		{"chat fixture", string(readFixture(t, "chat_stream.sse")),
			meter.Usage{InputTokens: 19, OutputTokens: 10}, true, n("Hello", `! "usage": café`, " How can I help?"), true},
		{"chat CRLF fixture", string(readFixture(t, "chat_stream_crlf.sse")),
			meter.Usage{InputTokens: 19, OutputTokens: 10}, true, n("Hello", `! "usage": café`, " How can I help?"), true},
		{"tool calls without usage", string(readFixture(t, "chat_stream_no_usage.sse")),
			meter.Usage{}, false, n(`{"location":`, `"Paris"}`), true},
		{"completions CRLF multi-line data", string(readFixture(t, "completions_stream_crlf.sse")),
			meter.Usage{InputTokens: 4, OutputTokens: 3}, true, n("Once upon", " a time"), true},
		{"no DONE", `data: {"choices":[{"delta":{"content":"ab"}}]}` + "\n\n",
			meter.Usage{}, false, 2, false},
		{"reasoning and legacy function call", `data: {"choices":[{"delta":{"reasoning_content":"hmm","function_call":{"name":"f","arguments":"{}"}}}]}` + "\n\n",
			meter.Usage{}, false, 5, false},
		{"several choices", `data: {"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"bc"}}]}` + "\n\n",
			meter.Usage{}, false, 3, false},
		{"data without space and bare data line", "data:{\"choices\":[{\"text\":\ndata\ndata:\"ab\"}]}\n\n",
			meter.Usage{}, false, 2, false},
		{"comments and other fields", ": ping\nid: 1\nevent: chunk\nretry: 10\ndata: {\"choices\":[{\"text\":\"ab\"}]}\n\n",
			meter.Usage{}, false, 2, false},
		{"not data fields", "database: {\"usage\":{\"prompt_tokens\":1}}\n\n", meter.Usage{}, false, 0, false},
		{"BOM", "\xef\xbb\xbfdata: {\"choices\":[{\"text\":\"ab\"}]}\n\n", meter.Usage{}, false, 2, false},
		{"invalid chunk counts nothing", `data: {"choices":[{"delta":{"content":"ab"}}],}` + "\n\n",
			meter.Usage{}, false, 0, false},
		{"content in other places ignored", `data: {"content":"x","choices":[{"message":{"content":"y"},"delta":{"role":"assistant","x":{"content":"z"}}}]}` + "\n\n",
			meter.Usage{}, false, 0, false},
		{"last usage wins", "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\ndata: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n",
			meter.Usage{InputTokens: 1, OutputTokens: 2}, true, 0, false},
		{"unusable usage keeps the last", "data: {\"usage\":{\"prompt_tokens\":1}}\n\ndata: {\"usage\":{\"prompt_tokens\":-1}}\n\ndata: {\"usage\":null}\n\n",
			meter.Usage{InputTokens: 1}, true, 0, false},
		{"DONE with CRLF and no blank line", "data: [DONE]\r\n", meter.Usage{}, false, 0, true},
		{"DONE split over lines is not DONE", "data: [DO\ndata: NE]\n\n", meter.Usage{}, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := meterStream(t, []byte(tt.stream))
			u, ok := m.Usage()
			if u != tt.wantUsage || ok != tt.wantOK {
				t.Fatalf("usage=%+v, %t, want %+v, %t", u, ok, tt.wantUsage, tt.wantOK)
			}
			if got := m.DeliveredBytes(); got != tt.wantDelivered {
				t.Fatalf("delivered=%d, want %d", got, tt.wantDelivered)
			}
			if got := m.Done(); got != tt.wantDone {
				t.Fatalf("done=%t, want %t", got, tt.wantDone)
			}
		})
	}
}

// meterResult is everything a stream's reading produced.
type meterResult struct {
	events    string // each event prefixed with its length
	all       string // the events concatenated
	err       error
	usage     meter.Usage
	ok        bool
	delivered int64
	done      bool
}

func meterReader(r io.Reader, maxEvent int) meterResult {
	er := NewEventReader(r, maxEvent)
	var m StreamMeter
	var res meterResult
	var events, all strings.Builder
	for {
		ev, err := er.Next()
		if err != nil {
			res.err = err
			break
		}
		events.WriteString(strconv.Itoa(len(ev)) + ":")
		events.Write(ev)
		all.Write(ev)
		m.Observe(ev)
	}
	res.events, res.all = events.String(), all.String()
	res.usage, res.ok = m.Usage()
	res.delivered, res.done = m.DeliveredBytes(), m.Done()
	return res
}

func FuzzEventReader(f *testing.F) {
	for _, b := range fixtures(f, "*.sse") {
		f.Add(b, []byte{3, 200, 7}, uint16(0))
		f.Add(b, []byte{1}, uint16(300))
	}
	f.Add([]byte("data: a\r\n\r\ndata: b\n\r\ndata: [DONE]"), []byte{0}, uint16(12))
	f.Fuzz(func(t *testing.T, stream, sizes []byte, maxEvent uint16) {
		want := meterReader(bytes.NewReader(stream), int(maxEvent))
		if want.err != io.EOF && want.err != ErrEventTooLarge {
			t.Fatalf("err=%v, want EOF or ErrEventTooLarge", want.err)
		}
		if want.delivered < 0 {
			t.Fatalf("delivered=%d, want >= 0", want.delivered)
		}
		got := meterReader(&pieceReader{data: stream, sizes: sizes}, int(maxEvent))
		if got != want {
			t.Fatalf("in pieces %v:\n%+v,\nwant %+v", sizes, got, want)
		}
		if want.err == io.EOF && want.all != string(stream) {
			t.Fatalf("events %q do not add up to the stream %q", want.events, stream)
		}
	})
}

func FuzzStreamMeter(f *testing.F) {
	for _, b := range fixtures(f, "*.sse") {
		for ev := range strings.SplitSeq(string(b), "\n\n") {
			f.Add([]byte(ev))
		}
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		var m StreamMeter
		m.Observe(event)
		if m.DeliveredBytes() < 0 {
			t.Fatalf("delivered=%d, want >= 0", m.DeliveredBytes())
		}
		// A single data line's usage is ParseUsage's.
		if !bytes.ContainsAny(event, "\r\n") {
			data, isData := bytes.CutPrefix(event, []byte("data: "))
			want, wantOK := ParseUsage(data)
			if got, ok := m.Usage(); isData && (got != want || ok != wantOK) {
				t.Fatalf("usage=%+v, %t, want %+v, %t (ParseUsage)", got, ok, want, wantOK)
			}
		}
	})
}

func BenchmarkStreamMeter(b *testing.B) {
	stream := readFixture(b, "chat_stream.sse")
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	r := bytes.NewReader(stream)
	for b.Loop() {
		r.Reset(stream)
		er := NewEventReader(r, 0)
		var m StreamMeter
		for {
			ev, err := er.Next()
			if err != nil {
				break
			}
			m.Observe(ev)
		}
		if _, ok := m.Usage(); !ok {
			b.Fatal("no usage")
		}
	}
}
