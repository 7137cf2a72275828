package recstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/require"
)

// FuzzRestore restores arbitrary input, as it is and with its frames'
// checksums recomputed (so that the fuzzer gets past them to the
// decoder). Restore must never panic, and either fail leaving the Store
// empty, or succeed with a Store every read works on and whose snapshot
// restores to the same snapshot.
//
//	go test -run '^$' -fuzz '^FuzzRestore$' -fuzztime 1m
func FuzzRestore(f *testing.F) {
	f.Add(dmpDump(f, dmpStore(f, nil)))
	f.Add(dmpSmall(f))
	f.Add(dmpDump(f, newDmpRich(f).s))
	f.Add(dmpSnap(dmpTrackFrame(1), dmpFrame('R', 0, 2, 't', '1', 1, 0, 1, 1, 8, 'd', 'm', 'p', 'a', 'l', 'b', 'u', 'm', 2, 'a', '1')))
	f.Add(dmpSnap(dmpLabelFrame(1), dmpFrame('R', 3, 2, 'l', '1', 7, '@', 'l', 'i', 'd', ':', 'x', '1', 1, 'N', 0)))
	good := dmpSmall(f)
	empty := dmpDump(f, dmpStore(f, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, input := range [][]byte{data, dmpReseal(data)} {
			m := dmpNew(nil)
			s := m.s
			if err := s.Restore(context.Background(), bytes.NewReader(input)); err != nil {
				for _, typ := range s.Types() {
					require.Zero(t, s.Len(typ))
				}
				require.Equal(t, empty, dmpDump(t, s), "a failed Restore left something: %v", err)
				require.NoError(t, s.Restore(context.Background(), bytes.NewReader(good)))
				continue
			}
			dmpReadAll(t, s)
			snap := dmpDump(t, s)
			again := dmpNew(nil)
			require.NoError(t, again.s.Restore(context.Background(), bytes.NewReader(snap)))
			require.Equal(t, snap, dmpDump(t, again.s))
			// What changes a record must work on every restored one.
			for _, typ := range s.Types() {
				for _, k := range s.Keys(typ) {
					_ = s.Rollback(k)
				}
			}
			dmpReadAll(t, s)
			require.NoError(t, s.UnloadAll())
		}
	})
}

// dmpReadAll reads every record of s every way there is.
func dmpReadAll(t *testing.T, s *recstore.Store) {
	t.Helper()
	for _, typ := range s.Types() {
		for _, k := range s.Keys(typ) {
			_, ok := s.Peek(k)
			require.True(t, ok, k)
			s.State(k)
			s.ChangedAttributes(k)
			s.ChangedRelationships(k)
			s.Links(k)
			s.Meta(k)
			snap, ok := s.Snapshot(k)
			require.True(t, ok, k)
			for r := range snap.Relationships() {
				s.Related(k, r.Name)
			}
			_, _ = s.Serialize(k, nil)
		}
	}
}

// dmpReseal returns data with the checksum of each frame that its
// header says is whole recomputed: the format's header, then frames of
// kind, length, payload and CRC-32C.
func dmpReseal(data []byte) []byte {
	out := bytes.Clone(data)
	table := crc32.MakeTable(crc32.Castagnoli)
	for i := 10; i < len(out); {
		n, w := binary.Uvarint(out[i+1:])
		if w <= 0 || n > uint64(len(out)) {
			break
		}
		end := i + 1 + w + int(n)
		if end+4 > len(out) {
			break
		}
		binary.LittleEndian.PutUint32(out[end:], crc32.Checksum(out[i:end], table))
		i = end + 4
	}
	return out
}
