package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestTmpInsertCost(t *testing.T) {
	runtime.LockOSThread()
	db := NewDB(filepath.Join(t.TempDir(), "ins.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db.write.ExecContext(ctx, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', '0xabc', 0)`)
	prefix := "eip155:84532/0x036CbD53842c5426634e7929541eC2318f3dCF7e/0x90F79bf6EB2c4f870365E785982E1f101E93b906/0x"
	for _, mode := range []string{"seq", "rand", "seq-short", "rand-short"} {
		for round := 0; round < 3; round++ {
			tx, _ := db.write.BeginTx(ctx, nil)
			st, _ := tx.PrepareContext(ctx, stmtSQL["insertEntry"])
			c0 := threadCPU()
			const n = 3000
			for i := 0; i < n; i++ {
				var ref string
				k := round*n + i
				switch mode {
				case "seq":
					ref = fmt.Sprintf("%s%064x", prefix, k)
				case "rand":
					ref = fmt.Sprintf("%s%064x", prefix, uint64(k)*0x9E3779B97F4A7C15)
				case "seq-short":
					ref = fmt.Sprintf("h_%016x", k)
				case "rand-short":
					ref = fmt.Sprintf("h_%016x", uint64(k)*0x9E3779B97F4A7C15)
				}
				if _, err := st.ExecContext(ctx, 1, "payment", 1000, ref+mode, "req", "", 0, 0, false, "", 0, 0, 0, 0, 0, 0); err != nil {
					t.Fatal(err)
				}
			}
			d := (threadCPU() - c0) / n
			c1 := threadCPU()
			tx.Commit()
			fmt.Println(mode, round, "insert", d, "commit/row", (threadCPU()-c1)/n)
		}
	}
}

func TestTmpMultiInsertCost(t *testing.T) {
	runtime.LockOSThread()
	db := NewDB(filepath.Join(t.TempDir(), "ins.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db.write.ExecContext(ctx, `INSERT INTO accounts (kind, address, created_at) VALUES ('wallet', '0xabc', 0)`)
	prefix := "eip155:84532/0x036CbD53842c5426634e7929541eC2318f3dCF7e/0x90F79bf6EB2c4f870365E785982E1f101E93b906/0x"
	for _, rowsPer := range []int{1, 8, 64} {
		for round := 0; round < 3; round++ {
			tx, _ := db.write.BeginTx(ctx, nil)
			st, _ := tx.PrepareContext(ctx, usageInsert(rowsPer))
			c0 := threadCPU()
			const n = 3072
			for i := 0; i < n; i += rowsPer {
				args := make([]any, 0, 16*rowsPer)
				for j := 0; j < rowsPer; j++ {
					k := uint64(round*n+i+j) * 0x9E3779B97F4A7C15
					args = append(args, 1, "payment", 1000, fmt.Sprintf("%s%064x-%d", prefix, k, rowsPer), "req", "", 0, 0, false, "", 0, 0, 0, 0, 0, 0)
				}
				if _, err := st.ExecContext(ctx, args...); err != nil {
					t.Fatal(err)
				}
			}
			d := (threadCPU() - c0) / n
			tx.Commit()
			fmt.Println(rowsPer, round, "per row", d)
		}
	}
}
