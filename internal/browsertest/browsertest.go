// Package browsertest drives headless Chromium for the tests of what okrd
// shows people (the web page, the HTML report): it renders a URL at a
// window size, keeps a screenshot, checks that the screenshot is a real
// rendering, and measures the layout from the DOM, so that a test can
// assert that nothing sticks out sideways on a phone. A missing Chromium
// is reported through internal/testenv: a skip on a developer machine, a
// failure where OKRD_REQUIRE_INTEGRATION=1.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/draw"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/testenv"
)

// Bin is where Debian's chromium package installs the browser.
const Bin = "/usr/bin/chromium"

// Require reports Chromium unavailable when it is not installed.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Bin); err != nil {
		testenv.Unavailable(t, "%s not found: install the Debian package chromium (scripts/install-test-deps.sh) to test the page in a browser", Bin)
	}
}

// Window is the size of the browser window in CSS pixels, and the device
// scale factor (0 means 1): the screenshot is Width*Scale by Height*Scale.
type Window struct {
	Width, Height int
	Scale         int
}

// Desktop and Phone are the windows the tests render at: a laptop, and a
// large phone held upright.
var (
	Desktop = Window{Width: 1280, Height: 2000}
	Phone   = Window{Width: 420, Height: 2000}
)

func (w Window) scale() int {
	if w.Scale <= 0 {
		return 1
	}
	return w.Scale
}

// Render runs headless Chromium on url in the window, writes a screenshot
// to shot and returns the DOM after rendering. The run is bounded by a
// generous timeout, a safety net only.
func Render(t testing.TB, url, shot string, w Window) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+t.TempDir(),
		"--window-size="+strconv.Itoa(w.Width)+","+strconv.Itoa(w.Height),
		"--force-device-scale-factor="+strconv.Itoa(w.scale()),
		"--screenshot="+shot, "--dump-dom", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// CheckScreenshot checks that path is a PNG of the window's size that is
// not one flat colour (a blank or failed render), and keeps a copy in
// $OKRD_SCREENSHOT_DIR when that is set, for people to look at.
func CheckScreenshot(t testing.TB, path string, w Window) image.Image {
	t.Helper()
	img := decode(t, path)
	if b := img.Bounds(); b.Dx() != w.Width*w.scale() || b.Dy() != w.Height*w.scale() {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w.Width*w.scale(), w.Height*w.scale())
	}
	if n := distinctColours(img, 50); n < 50 {
		t.Errorf("screenshot %s has only %d colours: the page looks blank", path, n)
	}
	if dir := os.Getenv("OKRD_SCREENSHOT_DIR"); dir != "" {
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644); err != nil {
			t.Errorf("keeping the screenshot: %v", err)
		}
	}
	return img
}

func decode(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	return img
}

// distinctColours counts the colours of img, stopping at limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// HasColour reports whether img has a pixel of exactly the colour r, g, b.
func HasColour(img image.Image, r, g, b uint8) bool {
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if uint8(pr>>8) == r && uint8(pg>>8) == g && uint8(pb>>8) == b {
				return true
			}
		}
	}
	return false
}

// Box is an element whose box the layout measured: a tag with its classes
// ("td.kr-status"), its horizontal extent in CSS pixels and the start of
// its text.
type Box struct {
	Element string  `json:"el"`
	Left    float64 `json:"left"`
	Right   float64 `json:"right"`
	Text    string  `json:"text"`
}

// Layout is what the measuring script found once the page was laid out.
type Layout struct {
	// Viewport is the width of the layout viewport; ScrollWidth the width
	// of the document (wider means a sideways scroll).
	Viewport    float64 `json:"viewport"`
	ScrollWidth float64 `json:"scrollWidth"`
	// Overflow lists the visible elements that reach past either edge of
	// the viewport, inside a scrolling box or not.
	Overflow []Box `json:"overflow"`
	// Spill lists the table cells whose content is wider than they are.
	Spill []Box `json:"spill"`
	// Marked lists the elements matching the selector asked for.
	Marked []Box `json:"marked"`
}

// layoutScript measures every element once the document is laid out (a
// script at the end of the body runs after the stylesheets have loaded)
// and writes the result into a hidden element of the top document, for
// --dump-dom (the page may be in a frame: see Measure).
const layoutScript = `<script>
(function () {
  var vw = document.documentElement.clientWidth;
  var out = {viewport: vw, scrollWidth: document.documentElement.scrollWidth, overflow: [], spill: [], marked: []};
  function name(el) {
    var c = typeof el.className === 'string' ? el.className.trim() : '';
    return el.tagName.toLowerCase() + (c ? '.' + c.split(/\s+/).join('.') : '');
  }
  function box(el) {
    var r = el.getBoundingClientRect();
    return {el: name(el), left: r.left, right: r.right, text: (el.textContent || '').trim().slice(0, 60)};
  }
  var all = document.body.getElementsByTagName('*');
  for (var i = 0; i < all.length; i++) {
    var el = all[i], r = el.getBoundingClientRect(), st = getComputedStyle(el);
    if ((r.width === 0 && r.height === 0) || st.visibility === 'hidden' || st.display === 'none') continue;
    // A skip link parked off screen until focused is meant to be there.
    if (r.right <= 0 && (st.position === 'absolute' || st.position === 'fixed')) continue;
    if (r.right > vw + 0.5 || r.left < -0.5) out.overflow.push(box(el));
    // A table cell whose content is wider than the cell spills into its
    // neighbour or off the screen, even when the cell itself fits (a
    // visually hidden header cell, a pixel wide, is meant to clip).
    if ((el.tagName === 'TD' || el.tagName === 'TH') && r.width >= 2 && el.scrollWidth > el.clientWidth + 1) out.spill.push(box(el));
  }
  var marked = document.querySelectorAll(SELECTOR);
  for (var j = 0; j < marked.length; j++) out.marked.push(box(marked[j]));
  var top = window.top.document;
  var pre = top.createElement('pre');
  pre.id = 'okrd-layout';
  pre.hidden = true;
  pre.textContent = JSON.stringify(out);
  top.body.appendChild(pre);
})();
</script>`

// minWindowWidth is the narrowest window headless Chromium opens: asked
// for less, it lays the page out 500 px wide and crops the screenshot.
const minWindowWidth = 500

// frameTemplate shows a page in a frame of a phone's width, since the
// window cannot be that narrow.
const frameTemplate = `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">` +
	`<iframe src="%s" width="%d" height="%d" style="display:block;border:0"></iframe></body></html>`

// Measure renders url in the window with the measuring script, and
// returns the layout with the elements matching selector (a CSS selector)
// marked. The page is fetched through a proxy that adds the script and
// drops the Content-Security-Policy and X-Frame-Options that would forbid
// it: the page itself stays without script. A window narrower than
// Chromium's narrowest shows the page in a frame of the window's width at
// the left of a wider window, and the screenshot is cropped to the frame.
func Measure(t testing.TB, pageURL, selector, shot string, w Window) Layout {
	t.Helper()
	target, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Replace(layoutScript, "SELECTOR", strconv.Quote(selector), 1)
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/okrd-frame" {
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(rw, frameTemplate, html.EscapeString(r.URL.Query().Get("page")), w.Width, w.Height)
			return
		}
		u := *target
		u.Path, u.RawPath, u.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
		resp, err := http.Get(u.String())
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(resp.Body); err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		b := body.Bytes()
		for k, vs := range resp.Header {
			switch k {
			case "Content-Security-Policy", "X-Frame-Options", "Content-Length":
				continue
			}
			rw.Header()[k] = vs
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			b = bytes.Replace(b, []byte("</body>"), []byte(script+"</body>"), 1)
		}
		rw.WriteHeader(resp.StatusCode)
		_, _ = rw.Write(b)
	}))
	defer proxy.Close()
	page := target.RequestURI()
	if w.Width >= minWindowWidth {
		return parseLayout(t, Render(t, proxy.URL+page, shot, w))
	}
	win := w
	win.Width = minWindowWidth
	l := parseLayout(t, Render(t, proxy.URL+"/okrd-frame?page="+url.QueryEscape(page), shot, win))
	crop(t, shot, w.Width*w.scale(), w.Height*w.scale())
	return l
}

// MeasureFile is Measure for an HTML file (the report).
func MeasureFile(t testing.TB, path, selector, shot string, w Window) Layout {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.ServeFile(rw, r, path)
	}))
	defer srv.Close()
	return Measure(t, srv.URL+"/"+filepath.Base(path), selector, shot, w)
}

// crop cuts the PNG at path down to its top left w by h pixels.
func crop(t testing.TB, path string, w, h int) {
	t.Helper()
	img := decode(t, path)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func parseLayout(t testing.TB, dom string) Layout {
	t.Helper()
	const open = `<pre id="okrd-layout" hidden="">`
	i := strings.Index(dom, open)
	if i < 0 {
		t.Fatalf("the measuring script did not run; DOM:\n%s", dom)
	}
	rest := dom[i+len(open):]
	j := strings.Index(rest, "</pre>")
	if j < 0 {
		t.Fatalf("the layout is cut off; DOM:\n%s", dom)
	}
	var l Layout
	if err := json.Unmarshal([]byte(html.UnescapeString(rest[:j])), &l); err != nil {
		t.Fatalf("reading the layout: %v\n%s", err, rest[:j])
	}
	return l
}

// CheckFits fails the test for every element that sticks out of the
// viewport sideways, every table cell whose content spills out of it, and
// a document wider than the viewport.
func CheckFits(t testing.TB, l Layout, w Window) {
	t.Helper()
	if l.Viewport != float64(w.Width) {
		t.Errorf("the viewport is %v px wide, want %d: the window size did not apply", l.Viewport, w.Width)
	}
	if l.ScrollWidth > l.Viewport {
		t.Errorf("the document is %v px wide in a %v px viewport: it scrolls sideways", l.ScrollWidth, l.Viewport)
	}
	for _, b := range l.Overflow {
		t.Errorf("%s (%q) spans %.0f..%.0f px, outside the %v px viewport", b.Element, b.Text, b.Left, b.Right, l.Viewport)
	}
	for _, b := range l.Spill {
		t.Errorf("%s (%q, %.0f..%.0f px) has content wider than itself", b.Element, b.Text, b.Left, b.Right)
	}
}

// CheckOnScreen fails the test unless want elements were marked and every
// one lies within the first screen width.
func CheckOnScreen(t testing.TB, l Layout, want int, what string) {
	t.Helper()
	if len(l.Marked) != want {
		t.Errorf("%d %s on the page, want %d", len(l.Marked), what, want)
	}
	for _, b := range l.Marked {
		if b.Left < 0 || b.Right > l.Viewport {
			t.Errorf("%s %q spans %.0f..%.0f px, not within the %v px of the screen", what, b.Text, b.Left, b.Right, l.Viewport)
		}
	}
}
