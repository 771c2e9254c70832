package api

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSpreadsheetCSV: ?format=tableur gives the attendee list as a French
// spreadsheet opens it: a byte-order mark, ";" between cells, French
// headings and statuses, local times, and a file named after the event's
// title and day (UTF-8, with an ASCII fallback); the plain CSV is unchanged.
func TestSpreadsheetCSV(t *testing.T) {
	srv, stop := feedServer(t)
	defer stop()
	get := func(url, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set(HeaderUser, "odile")
		req.Header.Set(HeaderGroups, "organisers")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, list := get(srv+"/api/v1/events", "")
	var evs []struct{ ID, Title, Start string }
	if err := json.Unmarshal([]byte(list), &evs); err != nil {
		t.Fatalf("events: %v\n%s", err, list)
	}
	var id, day string
	for _, e := range evs {
		if e.Title == "Assemblée générale, 2027" {
			id = e.ID
			st, _ := time.Parse(time.RFC3339, e.Start)
			paris, _ := time.LoadLocation("Europe/Paris")
			day = st.In(paris).Format(time.DateOnly)
		}
	}
	if id == "" {
		t.Fatalf("no assembly in %s", list)
	}
	resp, body := get(srv+"/api/v1/events/"+id+"/registrations?format=tableur", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	cd := resp.Header.Get("Content-Disposition")
	if want := `attachment; filename="Assembl_e g_n_rale, 2027 - ` + day + `.csv"; filename*=UTF-8''Assembl%C3%A9e%20g%C3%A9n%C3%A9rale%2C%202027%20-%20` + day + `.csv`; cd != want {
		t.Errorf("Content-Disposition\n %s\nwant\n %s", cd, want)
	}
	if !strings.HasPrefix(body, "\ufeff") {
		t.Errorf("no byte-order mark")
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff")))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %q (%v)\n%s", rows, err, body)
	}
	if strings.Join(rows[0], "|") != "Nom|E-mail|Statut|Position sur la liste d'attente|Inscrit·e le" {
		t.Errorf("headings %q", rows[0])
	}
	if rows[1][0] != "Amina" || rows[1][2] != "Confirmé·e" || rows[1][3] != "" {
		t.Errorf("row %q", rows[1])
	}
	if _, err := time.Parse("02/01/2006 15:04", rows[1][4]); err != nil {
		t.Errorf("registered at %q: %v", rows[1][4], err)
	}
	// The CSV for tools stays as it was.
	resp, body = get(srv+"/api/v1/events/"+id+"/registrations", "text/csv")
	if resp.StatusCode != 200 || !strings.Contains(body, "nom,email,statut,position,inscrit_le") || !strings.Contains(body, ",confirmed,") {
		t.Errorf("plain CSV: %d\n%s", resp.StatusCode, body)
	}
}

func TestSheetFileName(t *testing.T) {
	day := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for title, want := range map[string]string{
		"Assemblée générale":     "Assemblée générale - 2026-12-07.csv",
		"AG 2026/2027: bilan ?":  "AG 2026-2027- bilan - - 2026-12-07.csv",
		`  "Vœux" <coop>  `:      "-Vœux- -coop- - 2026-12-07.csv",
		"":                       "inscriptions - 2026-12-07.csv",
		strings.Repeat("é", 100): strings.Repeat("é", 80) + " - 2026-12-07.csv",
	} {
		if got := sheetFileName(title, day); got != want {
			t.Errorf("sheetFileName(%q) = %q, want %q", title, got, want)
		}
	}
}
