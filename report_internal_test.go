package recstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnknownTypeName(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", fmt.Errorf("%w %q", ErrUnknownType, "unicorn"), "unicorn"},
		{"in a DocumentError", &DocumentError{Pointer: "/x", Err: fmt.Errorf("%w %q", ErrUnknownType, "a\"b")}, `a"b`},
		{"with a hint after it", fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownType, "albums", "album"), "albums"},
		{"no name", fmt.Errorf("%w: relationship %q", ErrUnknownType, "x"), ""},
		{"another error", errors.New("boom"), ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, unknownTypeName(tt.err), tt.name)
	}
}

// Repeats cost a comparison and keep the first report's details; the
// first function runs once per distinct report.
func TestReportSet_Add(t *testing.T) {
	var rs reportSet
	calls := 0
	first := func(ptr string) func() Report {
		return func() Report { calls++; return Report{Pointer: ptr, Message: "m"} }
	}
	for i := range 3 {
		rs.add(ReportUnknownMember, "album", "x", first(fmt.Sprint("/", i)))
	}
	rs.add(ReportLossyCoercion, "album", "x", first("/l"))
	assert.Equal(t, 2, calls)
	assert.Equal(t, []Report{
		{Kind: ReportUnknownMember, Type: "album", Member: "x", Pointer: "/0", Count: 3, Message: "m"},
		{Kind: ReportLossyCoercion, Type: "album", Member: "x", Pointer: "/l", Count: 1, Message: "m"},
	}, rs.reports())
	assert.Nil(t, (*reportSet)(nil).reports())
}
