package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// XandikosHome returns a fresh, empty calendar home on the Xandikos that
// `make test` started (its base URL in ROOMCAL_TEST_XANDIKOS_URL). Xandikos
// (started with --defaults, no authentication) keeps one user's calendars
// under /user/calendars/; each home is a new plain collection there,
// /user/calendars/t-ID/, made with MKCOL, whose child collections are the
// calendars. The test fails (never skips) when the variable is unset.
//
// Xandikos is the second real server of the suite because it keeps RFC
// edges Radicale lets pass (see ../shared/CALDAV-NOTES.md): a UID conflict
// answered 207 with a 412 inside, sync-collection leaving out objects
// created and deleted since the token, 500 for an unknown sync token.
func XandikosHome(t testing.TB) Home {
	t.Helper()
	base := os.Getenv("ROOMCAL_TEST_XANDIKOS_URL")
	if base == "" {
		t.Fatal("ROOMCAL_TEST_XANDIKOS_URL is not set: run the tests with `make test`, which starts Xandikos (apt-get install xandikos)")
	}
	home := strings.TrimRight(base, "/") + "/user/calendars/t-" + RandomID() + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := mkcol(ctx, home); err != nil {
		t.Fatalf("xandikos home: %v", err)
	}
	return Home{URL: home, User: "user", Password: "x"}
}

// mkcol creates the plain collection at url.
func mkcol(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, "MKCOL", url, nil)
	if err != nil {
		return fmt.Errorf("MKCOL %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("MKCOL %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("MKCOL %s: %s", url, resp.Status)
	}
	return nil
}
