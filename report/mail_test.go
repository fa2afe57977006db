package report

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The HTML report goes out by mail, where clients drop style blocks,
// classes, scripts and remote images: everything it needs is inline.
func TestTheHTMLReportIsSafeForMail(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.HTML(&buf); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	images, styled := 0, 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "style", "script", "link", "iframe", "object", "embed", "svg", "form", "input", "video", "audio":
				t.Errorf("the report has a <%s> element, which mail clients drop", n.Data)
			}
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
				switch {
				case a.Key == "class" || a.Key == "id":
					t.Errorf("<%s %s=%q>: mail clients rename or drop classes and ids; style inline", n.Data, a.Key, a.Val)
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("<%s %s>: no script", n.Data, a.Key)
				case a.Key == "style" && strings.Contains(a.Val, "url("):
					t.Errorf("<%s style=%q> loads a resource", n.Data, a.Val)
				case a.Key == "style":
					styled++
				case (a.Key == "src" || a.Key == "background" || a.Key == "href") && !strings.HasPrefix(a.Val, "data:image/png;base64,"):
					t.Errorf("<%s %s=%q> is an external resource", n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "img" {
				images++
				if attrs["alt"] == "" || attrs["width"] != "120" || attrs["height"] != "32" {
					t.Errorf("an image without its alt text or size: %v", attrs)
				}
				b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(attrs["src"], "data:image/png;base64,"))
				if err != nil {
					t.Fatalf("image %q: %v", attrs["alt"], err)
				}
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("image %q is not a PNG: %v", attrs["alt"], err)
				}
				if bd := img.Bounds(); bd.Dx() != 240 || bd.Dy() != 64 {
					t.Errorf("image %q is %dx%d, want 240x64 (twice its shown size)", attrs["alt"], bd.Dx(), bd.Dy())
				}
			}
			// Layout is made of tables: a block's width and padding are
			// what the oldest mail renderers ignore.
			if n.Data == "div" || n.Data == "section" || n.Data == "main" {
				t.Errorf("the report lays out with <%s>; use tables", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// One trend image per key result with values: all five have some.
	if images != 5 {
		t.Errorf("%d trend images, want 5", images)
	}
	if styled < 50 {
		t.Errorf("only %d elements are styled inline", styled)
	}
}
