package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// Every error code the domain declares has a status in the one table, so
// that no code falls through to 500 by omission.
func TestStatusOf_CoversEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../meter/error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !strings.HasPrefix(vs.Names[0].Name, "ECode") {
			return true
		}
		code := strings.Trim(vs.Values[0].(*ast.BasicLit).Value, `"`)
		n++
		status, ok := statusOf[code]
		if !ok {
			t.Errorf("code %q has no HTTP status", code)
		}
		if code != "internal" && status == 500 {
			t.Errorf("code %q maps to 500", code)
		}
		return true
	})
	if n < 20 {
		t.Fatalf("found %d codes in meter/error.go, want them all", n)
	}
}

func TestErrorType(t *testing.T) {
	for status, want := range map[int]string{400: "invalid_request_error", 401: "authentication_error", 402: "payment_error",
		403: "permission_error", 409: "conflict_error", 429: "rate_limit_error", 502: "api_error"} {
		if got := errorType(status); got != want {
			t.Errorf("errorType(%d)=%q, want %q", status, got, want)
		}
	}
}
