package recstore

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageLink knows one page by one string however its link is spelt, and
// tells pages apart when their links differ in what a server sees.
func TestPageLink(t *testing.T) {
	abs, err := url.Parse("https://api.example.com/api/albums?page=2")
	require.NoError(t, err)
	rel, err := url.Parse("/albums?page=2")
	require.NoError(t, err)
	tests := []struct {
		name   string
		base   *url.URL
		a, b   string
		same   bool
		reason string
	}{
		{"README's first", rel, "?page=1", "/albums?page=1", true, "the README's example"},
		{"README's second", rel, "?page=1", "/albums?page=%31#top", true, "the README's example"},
		{"query-relative", abs, "?page=1", "/api/albums?page=1", true, "RFC 3986 against the page's URL"},
		{"path-relative", abs, "albums?page=1", "https://api.example.com/api/albums?page=1", true, ""},
		{"dot segments", abs, "../api/./albums?page=1", "/api/albums?page=1", true, ""},
		{"host case", abs, "https://API.example.com/api/albums?page=1", "?page=1", true, "host names are case-insensitive"},
		{"fragment", abs, "?page=1#top", "?page=1", true, "a fragment is never sent"},
		{"query order", abs, "?a=1&b=2", "?b=2&a=1", true, ""},
		{"query escaping", abs, "?page%5Bnumber%5D=1", "?page[number]=1", true, ""},
		{"empty query", abs, "/api/albums?", "/api/albums", true, ""},
		{"other page", abs, "?page=1", "?page=3", false, ""},
		{"other path", abs, "albums?page=1", "/albums?page=1", false, "albums is relative to /api/"},
		{"repeated value order", abs, "?a=1&a=2", "?a=2&a=1", false, "the order of one parameter's values may matter"},
		{"path escaping", abs, "/api/a%2Fb", "/api/a/b", false, "an escaped slash is not a slash"},
		{"unknown first page", unknownPage(), "?page=1", "/?page=1", false, "the first page's path is unknown"},
		{"unknown first page, relative path", unknownPage(), "albums?page=1", "/albums?page=1", false, ""},
		{"unknown first page, one spelling", unknownPage(), "?page=1", "?page=1#x", true, ""},
		{"no base", nil, "?page=1", "/?page=1", false, "compared as sent"},
		{"no base, absolute", nil, "https://API.example.com/x#y", "https://api.example.com/x", true, ""},
		{"unparsable", abs, "%zz", "%zz", true, "compared as sent"},
		{"unparsable and parsable", abs, "%zz", "/api/%zz", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := pageLink(tt.base, tt.a)
			b, _ := pageLink(tt.base, tt.b)
			if tt.same {
				assert.Equal(t, a, b, "%q and %q: %s", tt.a, tt.b, tt.reason)
			} else {
				assert.NotEqual(t, a, b, "%q and %q: %s", tt.a, tt.b, tt.reason)
			}
		})
	}
}

// FuzzPageLink: any link from a backend gives a page identity without a
// panic, and a fragment never changes it.
func FuzzPageLink(f *testing.F) {
	for _, s := range []string{"?page=2", "/albums?page[number]=2", "albums", "https://h/x?a=1&b=2", "//h/x", "%zz", "?a=%", ""} {
		f.Add(s)
	}
	bases := []*url.URL{nil, unknownPage(), {Scheme: "https", Host: "api.example.com", Path: "/api/albums", RawQuery: "page=2"}}
	f.Fuzz(func(t *testing.T, link string) {
		for _, base := range bases {
			id, u := pageLink(base, link)
			if u == nil || strings.Contains(link, "#") {
				continue
			}
			id2, _ := pageLink(base, link+"#frag")
			assert.Equal(t, id, id2, "base %v, link %q", base, link)
		}
	})
}
