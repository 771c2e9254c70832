// Command roomcal serves room booking and internal events on top of CalDAV
// calendars.
//
//	roomcal [serve]      run the service (the default)
//	roomcal check        validate the configuration, reach CalDAV and Redis
//	roomcal rooms sync   create the room calendars missing on the server
//	roomcal mail test ADDRESS   send a test message
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/roomcal/roomcal/internal/config"
)

const usage = `usage: roomcal [command]

commands:
  serve        run the service (default)
  check        validate the configuration and reach CalDAV and Redis
  rooms sync   create the room calendars that are missing on the server
  mail test ADDRESS
               send a test message through ROOMCAL_SMTP_URL

Configuration: roomcal.yaml (or ROOMCAL_CONFIG) and ROOMCAL_* variables.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC(os.LookupEnv)
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cfg, err := config.Load(env)
	if err != nil {
		fmt.Fprintf(stderr, "roomcal: configuration: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch {
	case cmd == "serve":
		err = serve(ctx, cfg, log)
	case cmd == "check":
		err = check(ctx, cfg, stdout)
	case cmd == "rooms" && len(args) > 1 && args[1] == "sync":
		err = syncRooms(ctx, cfg, stdout)
	case cmd == "mail" && len(args) == 3 && args[1] == "test":
		err = mailTest(ctx, cfg, args[2], stdout)
	default:
		fmt.Fprintf(stderr, "roomcal: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "roomcal %s: %v\n", cmd, err)
		}
		return 1
	}
	return 0
}

// errReported: the command already told the user what went wrong.
var errReported = errors.New("reported")

// timeout returns a context for one start-up step.
func timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 15*time.Second)
}
