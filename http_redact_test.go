package recstore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
)

// No error shows a password, whether Host or a link the backend sent
// holds it, on any path that refuses a request before or without
// sending it.
func TestHTTPAdapter_ErrorsHidePasswords(t *testing.T) {
	const secret = "secretpw"
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	withPW := strings.Replace(srv.URL, "http://", "http://u:"+secret+"@", 1)
	link := func(host, l string) func(context.Context) error {
		return func(ctx context.Context) error {
			a := &recstore.HTTPAdapter{Host: host}
			_, err := a.FindLink(ctx, &recstore.Request{Type: "album", Link: l})
			return err
		}
	}
	tests := []struct {
		name    string
		call    func(context.Context) error
		wantErr error
	}{
		{"cross-origin link", link(srv.URL, "https://u:"+secret+"@evil.example/x"), recstore.ErrCrossOriginLink},
		{"cross-origin link, no user name", link(srv.URL, "https://:"+secret+"@evil.example/x"), recstore.ErrCrossOriginLink},
		{"ftp link", link(srv.URL, "ftp://u:"+secret+"@evil.example/x"), recstore.ErrBadResponse},
		{"opaque link", link(srv.URL, "mailto:u:"+secret+"@evil.example"), recstore.ErrBadResponse},
		{"opaque http link", link(srv.URL, "http:u:"+secret+"@evil.example/x"), recstore.ErrBadResponse},
		{"unparsable link, bad port", link(srv.URL, "https://u:"+secret+"@evil.example:port/x"), recstore.ErrBadResponse},
		{"unparsable link, bad escape", link(srv.URL, "https://u:"+secret+"@evil.example/%zz"), recstore.ErrBadResponse},
		{"unparsable link, control character", link(srv.URL, "https://u:"+secret+"@evil.example/\x7f"), recstore.ErrBadResponse},
		{"host-relative link, bad escape", link(withPW, "/x/%zz"), recstore.ErrBadResponse},
		{"host-relative link on an unparsable Host", link("http://u:"+secret+"@127.0.0.1:port", "/x"), recstore.ErrBadResponse},
		{"relative link on an unparsable Host", link("http://u:"+secret+"@127.0.0.1:port", "?page=2"), recstore.ErrBadResponse},
		{"scheme-relative link on an unparsable Host", link("http://u:"+secret+"@[::1", "//evil.example/x"), recstore.ErrBadResponse},
		{"link on a Host with a password", link(withPW, "/x"), recstore.ErrServer},
		{"record without an id on a Host with a password", func(ctx context.Context) error {
			_, err := (&recstore.HTTPAdapter{Host: withPW}).FindRecord(ctx, &recstore.Request{Type: "album"})
			return err
		}, recstore.ErrNotFound},
		{"delete without an id on a Host with a password", func(ctx context.Context) error {
			return (&recstore.HTTPAdapter{Host: withPW}).DeleteRecord(ctx, &recstore.Request{Type: "album"})
		}, recstore.ErrNotFound},
		{"FindMany of a comma id on a Host with a password", func(ctx context.Context) error {
			_, err := (&recstore.HTTPAdapter{Host: withPW}).FindMany(ctx, &recstore.Request{Type: "album", IDs: []string{"a,b"}})
			return err
		}, recstore.ErrNotSupported},
		{"FindMany without ids on a Host with a password", func(ctx context.Context) error {
			_, err := (&recstore.HTTPAdapter{Host: withPW}).FindMany(ctx, &recstore.Request{Type: "album"})
			return err
		}, recstore.ErrNotFound},
		{"unparsable Host with a password", func(ctx context.Context) error {
			_, err := (&recstore.HTTPAdapter{Host: "http://u:" + secret + "@127.0.0.1:port"}).FindRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
			return err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			err := tt.call(context.Background())
			require.Error(t, err)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			assert.NotContains(t, err.Error(), secret, "the error's text")
			var he *recstore.HTTPError
			require.ErrorAs(t, err, &he)
			assert.NotContains(t, he.URL, secret, "HTTPError.URL")
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				assert.NotContains(t, e.Error(), secret, "a wrapped error's text")
			}
			if tt.wantErr != recstore.ErrServer {
				assert.Equal(t, before, hits.Load(), "nothing is sent")
			}
		})
	}
}
