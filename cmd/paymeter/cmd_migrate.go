package main

import (
	"context"
	"fmt"
	"io"

	"github.com/paymeter/paymeter/internal/postgres"
	"github.com/paymeter/paymeter/internal/sqlite"
)

// migration is one schema migration as either engine names it.
type migration struct {
	version int
	name    string
}

func (m migration) String() string {
	if m.version == 0 {
		return "none"
	}
	return fmt.Sprintf("migration %d (%s)", m.version, m.name)
}

// runMigrate applies the database's pending migrations, or with --status
// only shows its version and what is pending; either engine.
func runMigrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("migrate")
	var f dbFlags
	f.register(fs)
	database := fs.String("database", "", "the database: a SQLite file or a postgres:// URL")
	status := fs.Bool("status", false, "show the schema's version and pending migrations; apply nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("migrate: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	if *database != "" {
		cfg.Database = *database
	}
	d, err := parseDatabase(cfg.Database)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s\n", d)
	var have migration
	var known, applied []migration
	if d.postgres {
		have, known, applied, err = migratePostgres(ctx, d.value, *status)
	} else {
		have, known, applied, err = migrateSQLite(ctx, d.value, *status)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema: %s\n", have)
	if *status {
		var pending []migration
		for _, m := range known {
			if m.version > have.version {
				pending = append(pending, m)
			}
		}
		fmt.Fprintf(stdout, "pending: %s\n", span(pending))
		if newest := known[len(known)-1]; have.version > newest.version {
			return fmt.Errorf("database %s: the schema is newer than this paymeter, which knows up to %s", d, newest)
		}
		return nil
	}
	fmt.Fprintf(stdout, "applied: %s\n", span(applied))
	return nil
}

// span is "none", "1 (0012_replay_by_time)" or "12 (0001_init … 0012_replay_by_time)".
func span(ms []migration) string {
	switch len(ms) {
	case 0:
		return "none"
	case 1:
		return "1 (" + ms[0].name + ")"
	}
	return fmt.Sprintf("%d (%s … %s)", len(ms), ms[0].name, ms[len(ms)-1].name)
}

func migratePostgres(ctx context.Context, dsn string, statusOnly bool) (have migration, known, applied []migration, err error) {
	for _, m := range postgres.Migrations() {
		known = append(known, migration{m.Version, m.Name})
	}
	db, err := postgres.Connect(ctx, dsn)
	if err != nil {
		return have, nil, nil, err
	}
	defer db.Close()
	if !statusOnly {
		done, err := db.Migrate(ctx)
		if err != nil {
			return have, nil, nil, err
		}
		for _, m := range done {
			applied = append(applied, migration{m.Version, m.Name})
		}
	}
	m, err := db.Schema(ctx)
	return migration{m.Version, m.Name}, known, applied, err
}

func migrateSQLite(ctx context.Context, path string, statusOnly bool) (have migration, known, applied []migration, err error) {
	for _, m := range sqlite.Migrations() {
		known = append(known, migration{m.Version, m.Name})
	}
	before, err := sqlite.ReadSchema(ctx, path)
	if err != nil {
		return have, nil, nil, err
	}
	if statusOnly {
		return migration{before.Version, before.Name}, known, nil, nil
	}
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil { // Open applies what is pending
		return have, nil, nil, err
	}
	defer db.Close()
	after, err := db.Schema(ctx)
	if err != nil {
		return have, nil, nil, err
	}
	for _, m := range known {
		if m.version > before.Version && m.version <= after.Version {
			applied = append(applied, m)
		}
	}
	return migration{after.Version, after.Name}, known, applied, nil
}
