package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okrd/okrd/internal/browsertest"
)

// The HTML report as a mail client's browser engine shows it: at a
// desktop's width and at a phone's, nothing sticks out sideways, every
// status badge is on the first screen width, and the trend images are
// drawn (their line colour is in the screenshot, shown at its own size).
func TestTheHTMLReportRendersInHeadlessChromium(t *testing.T) {
	browsertest.Require(t)
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		win  browsertest.Window
	}{
		{"desktop", browsertest.Window{Width: 800, Height: 2600, Scale: 2}},
		{"phone", browsertest.Window{Width: 420, Height: 3600, Scale: 2}},
	} {
		t.Run("on a "+tc.name, func(t *testing.T) {
			shot := filepath.Join(dir, "report-"+tc.name+".png")
			// The badges are the spans with a background colour.
			l := browsertest.MeasureFile(t, path, `span[style*="background-color"]`, shot, tc.win)
			img := browsertest.CheckScreenshot(t, shot, tc.win)
			browsertest.CheckFits(t, l, tc.win)
			// 4 in the summary, 3 needing attention, 2 objectives and 5
			// key results, 1 in the delivery table.
			browsertest.CheckOnScreen(t, l, 4+3+2+5+1, "status badges")
			for _, c := range []struct {
				what    string
				r, g, b uint8
			}{
				{"the trend line of the images", 0x0b, 0x4f, 0x9e},
				{"the band of a maintain key result's image", 0xd7, 0xf0, 0xdc},
				{"an off-track badge", 0xf8, 0xd3, 0xd0},
			} {
				if !browsertest.HasColour(img, c.r, c.g, c.b) {
					t.Errorf("the screenshot has no pixel of %s (#%02x%02x%02x)", c.what, c.r, c.g, c.b)
				}
			}
			for _, b := range l.Marked {
				if strings.Contains(b.Text, "h0m") {
					t.Errorf("a badge reads %q", b.Text)
				}
			}
		})
	}
}
