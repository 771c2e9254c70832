package api

import (
	"image"
	"image/color"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qr "github.com/piglig/go-qr"
)

// The door's QR code, drawn as SVG, reads back as the room's check-in
// page: its modules are drawn into an image and decoded.
func TestRoomQRCode(t *testing.T) {
	f := newPolicyFixture(t)
	resp, body := f.call(t, asMember, "GET", "/salles/loire/qr.svg", "", false)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("QR code: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	svg := string(body)
	m := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(svg)
	if m == nil || !strings.Contains(svg, "<path d=\"M") {
		t.Fatalf("not the SVG of a QR code:\n%.300s", svg)
	}
	dim, _ := strconv.Atoi(m[1])
	// 8 px a module, a quiet zone of 4 modules (32 px) on each side.
	const scale, border = 8, 32
	img := image.NewGray(image.Rect(0, 0, dim, dim))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for _, mm := range regexp.MustCompile(`M(\d+),(\d+)h8v8h-8z`).FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(mm[1])
		y, _ := strconv.Atoi(mm[2])
		if x < border || y < border {
			t.Fatalf("a module in the quiet zone at %d,%d", x, y)
		}
		for dy := range scale {
			for dx := range scale {
				img.SetGray(x+dx, y+dy, color.Gray{})
			}
		}
	}
	text, err := qr.Decode(img)
	if err != nil {
		t.Fatalf("decode the door's QR code: %v", err)
	}
	if !strings.HasPrefix(text, "http://127.0.0.1:") || !strings.HasSuffix(text, "/salles/loire/presence") {
		t.Errorf("the QR code opens %q, want the room's check-in page", text)
	}
	if resp, _ := f.call(t, asMember, "GET", "/salles/nope/qr.svg", "", false); resp.StatusCode != 404 {
		t.Errorf("QR code of an unknown room: %d, want 404", resp.StatusCode)
	}
}
