package recstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// redactURL masks a password wherever it stands, and leaves the rest of
// the URL as URL.Redacted would.
func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no userinfo", "https://h.example/a?b=c", "https://h.example/a?b=c"},
		{"password", "https://u:pw@h.example/a", "https://u:xxxxx@h.example/a"},
		{"user name only", "https://u@h.example/a", "https://u@h.example/a"},
		{"empty user name", "https://:pw@h.example/a", "https://:xxxxx@h.example/a"},
		{"@ in the path", "https://h.example/a@b:c", "https://h.example/a@b:c"},
		{"unparsable, password", "https://u:pw@h.example:port/a", "https://u:xxxxx@h.example:port/a"},
		{"unparsable, @ in the path", "https://h.example/%zz@x:y", "https://h.example/%zz@x:y"},
		{"unparsable, @ in the password", "https://u:p@w@h.example:port/", "https://u:xxxxx@h.example:port/"},
		{"opaque, password", "http:u:pw@h.example/a", "http:u:xxxxx@h.example/a"},
		{"opaque, user name only", "mailto:a@b.example", "mailto:a@b.example"},
		{"relative", "/a/b?c", "/a/b?c"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, redactURL(tt.in), "redactURL(%q)", tt.in)
		})
	}
}
