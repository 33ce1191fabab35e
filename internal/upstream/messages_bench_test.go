package upstream

import (
	"bytes"
	"strings"
	"testing"
)

// messagesBody is a typical agent request: a system prompt with a cache
// breakpoint, a tool, a tool call and its result, an image.
const messagesBody = `{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,` +
	`"system":[{"type":"text","text":"You are a coding agent.","cache_control":{"type":"ephemeral"}}],` +
	`"tools":[{"name":"read_file","description":"Read a file.","input_schema":{"type":"object","properties":{"path":{"type":"string"}}}}],` +
	`"messages":[{"role":"user","content":[{"type":"text","text":"Fix the bug in main.go."},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},` +
	`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"read_file","input":{"path":"main.go"}}]},` +
	`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"package main\nfunc main() {}\n"}]}]}`

// The Messages inspector allocates only what it returns, as chat's does:
// the model's name (and the place of a first image, to name it in a
// refusal); the stream meter its copy of the model name and the buffer of
// the reader's events.
func TestMessagesAllocations(t *testing.T) {
	body := []byte(strings.Replace(messagesBody, `,{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}`, "", 1))
	if n := testing.AllocsPerRun(100, func() {
		if _, err := InspectRequest(body, APIMessages); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatalf("InspectRequest allocates %.0f times, want 1 (the model)", n)
	}
	events := splitSSE(string(readFixture(t, "messages_stream.sse")))
	raw := make([][]byte, len(events))
	for i, ev := range events {
		raw[i] = []byte(ev)
	}
	if n := testing.AllocsPerRun(100, func() {
		m := StreamMeter{API: APIMessages}
		for _, ev := range raw {
			m.Observe(ev)
		}
	}); n > 2 {
		t.Fatalf("metering a stream allocates %.0f times, want at most the model name's copy", n)
	}
}

func BenchmarkInspectMessages(b *testing.B) {
	body := []byte(messagesBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := InspectRequest(body, APIMessages); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMessagesStreamMeter(b *testing.B) {
	stream := readFixture(b, "messages_stream.sse")
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	r := bytes.NewReader(stream)
	for b.Loop() {
		r.Reset(stream)
		er := NewEventReader(r, 0)
		m := StreamMeter{API: APIMessages}
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
