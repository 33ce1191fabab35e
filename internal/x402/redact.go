package x402

import (
	"net/url"
	"regexp"
)

// RedactURL returns rawURL as scheme://host only. RPC and facilitator URLs
// often carry a credential: in the user info, in the path
// (".../v2/<api key>") or in the query; none of it may reach a log line,
// an error or a stored reason.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "[url]"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		out += "/…"
	}
	return out
}

var urlPattern = regexp.MustCompile(`(?i)\b(?:https?|wss?)://[^\s"'<>]+`)

// RedactURLs cuts every URL in s to its scheme and host (RedactURL).
func RedactURLs(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, RedactURL)
}

// Redact is err's message with every URL in it redacted: net/http's and
// go-ethereum's RPC client errors name the URL they called.
func Redact(err error) string {
	if err == nil {
		return ""
	}
	return RedactURLs(err.Error())
}
