package main

import (
	"strings"
	"testing"
)

// PAYMETER_PAYER_KEY is the payer's (`paymeter pay`), not a setting: a
// shell that exported it for pay still starts paymeter and its demo, and
// no error of the configuration ever shows it.
func TestLoadConfig_PayerKeyIsNotASetting(t *testing.T) {
	key := "0x" + strings.Repeat("11", 32)
	if _, err := LoadConfig("", []string{payKeyEnv + "=" + key}); err != nil {
		t.Fatalf("with %s set: %v", payKeyEnv, err)
	}
	_, err := LoadConfig("", []string{payKeyEnv + "=" + key, "PAYMETER_NO_SUCH=1"})
	if err == nil || err.Error() != "PAYMETER_NO_SUCH: no such setting" {
		t.Fatalf("another variable: %v, want only it named", err)
	}
}
