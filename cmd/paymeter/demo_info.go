package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/paymeter/paymeter/internal/demo"
)

// demoInfo is everything the demo prints, as `paymeter demo --info FILE`
// writes it for scripts: one JSON object.
type demoInfo struct {
	BaseURL string `json:"baseUrl"`
	// Database is the SQLite file; Config a YAML file naming it and the
	// chain, for the operator commands (--config).
	Database    string   `json:"database"`
	Config      string   `json:"config"`
	APIKey      string   `json:"apiKey"`
	BrokeAPIKey string   `json:"brokeApiKey"`
	Models      []string `json:"models"`
	Chain       struct {
		RPCURL  string `json:"rpcUrl"`
		ChainID int64  `json:"chainId"`
	} `json:"chain"`
	Token struct {
		Address  string `json:"address"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Decimals int    `json:"decimals"`
	} `json:"token"`
	Network struct {
		V1 string `json:"v1"`
		V2 string `json:"v2"`
	} `json:"network"`
	PayTo        string   `json:"payTo"`
	TopupAmounts []string `json:"topupAmounts"`
	Payer        struct {
		Address    string `json:"address"`
		PrivateKey string `json:"privateKey"`
		KeyFile    string `json:"keyFile"`
		USDCUnits  int64  `json:"usdcUnits"`
		Note       string `json:"note"`
	} `json:"payer"`
	// Command is how the printed lines run paymeter itself.
	Command string `json:"command"`
}

const throwawayNote = "a throwaway key generated for this run of the demo's local chain; it holds nothing anywhere else"

func newDemoInfo(m *Main, cfg *Config, d *demoChain, key, brokeKey, keyFile, configFile string) *demoInfo {
	i := &demoInfo{BaseURL: m.URL(), Database: cfg.Database, Config: configFile, APIKey: key, BrokeAPIKey: brokeKey,
		Models: append(demo.Models(), demoClaude), PayTo: d.payTo.Hex(), Command: demoCommand()}
	i.Chain.RPCURL, i.Chain.ChainID = d.RPCURL, d.ChainID
	i.Token.Address, i.Token.Name, i.Token.Version, i.Token.Decimals = d.usdc.Address.Hex(), d.usdc.Domain.Name, d.usdc.Domain.Version, 6
	i.Network.V1, i.Network.V2 = d.network().Name, d.caip2()
	for _, a := range cfg.X402.TopupAmounts {
		i.TopupAmounts = append(i.TopupAmounts, a.String())
	}
	i.Payer.Address, i.Payer.PrivateKey = d.payer.Hex(), hexutil.Encode(crypto.FromECDSA(d.payerKey))
	i.Payer.KeyFile, i.Payer.USDCUnits, i.Payer.Note = keyFile, demoPayerUnits, throwawayNote
	return i
}

// write writes i to path, readable by its owner only: it holds a key. It
// writes a new file beside path and renames it over path, so that a file
// or symlink someone planted there (readable by others) never receives it.
func (i *demoInfo) write(path string) error {
	b, err := json.MarshalIndent(i, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".paymeter-demo-info-*") // mode 0600
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// demoCommand is how the demo's printed lines run paymeter; tests point
// it at a built binary.
var demoCommand = selfCommand

// selfCommand is how a printed line runs this program: "paymeter" when
// that is on PATH, the executable's path otherwise, and "go run
// ./cmd/paymeter" under go run, whose executable is gone once it exits.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "paymeter"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/paymeter"
	}
	if onPath, err := exec.LookPath("paymeter"); err == nil {
		if a, b := realPath(onPath), realPath(exe); a == b {
			return "paymeter"
		}
	}
	return shellWord(exe)
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
