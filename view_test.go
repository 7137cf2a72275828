package recstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestView_StaysCurrent(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	defer s.Close()
	_, err := s.Push(`{"data": [{"type": "album", "id": "1", "attributes": {"songCount": 12}},
		{"type": "album", "id": "2", "attributes": {"songCount": 3}}]}`)
	require.NoError(t, err)
	long := albums.View(func(a *Album) bool { return a.SongCount >= 10 })
	defer long.Close()
	all := albums.View(nil)
	defer all.Close()
	assert.Equal(t, []string{"1"}, long.IDs(), "filled from what the Store holds")
	assert.Equal(t, 2, all.Len())

	_, err = s.Push(`{"data": [{"type": "album", "id": "2", "attributes": {"songCount": 11}},
		{"type": "album", "id": "3", "attributes": {"songCount": 20}}]}`)
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3"}, long.IDs(), "current as soon as the push returns")

	_, err = albums.Edit("1", func(a *Album) { a.SongCount = 1 })
	require.NoError(t, err)
	assert.Equal(t, []string{"2", "3"}, long.IDs(), "edits count")

	require.NoError(t, albums.Unload("3"))
	assert.Equal(t, []string{"2"}, long.IDs(), "unloads count")
	assert.Equal(t, 2, all.Len())
	for id, a := range long.All() {
		assert.Equal(t, "2", id)
		assert.Equal(t, 11, a.SongCount)
	}

	long.Close()
	_, err = s.Push(`{"data": {"type": "album", "id": "9", "attributes": {"songCount": 99}}}`)
	require.NoError(t, err)
	assert.Equal(t, []string{"2"}, long.IDs(), "a closed view stays as it was")
	assert.Equal(t, 3, all.Len())
}

func TestView_PanickingFilter(t *testing.T) {
	var mu sync.Mutex
	var reports []recstore.Report
	s, albums, _, _, _ := newStore(t, &recstore.Options{OnReport: func(r recstore.Report) { mu.Lock(); reports = append(reports, r); mu.Unlock() }})
	v := albums.View(func(a *Album) bool {
		if a.Title == "boom" {
			panic("filter bug")
		}
		return true
	})
	defer v.Close()
	_, err := s.Push(`{"data": [{"type": "album", "id": "1", "attributes": {"title": "boom"}}, {"type": "album", "id": "2"}]}`)
	require.NoError(t, err, "the push goes on")
	assert.Equal(t, []string{"2"}, v.IDs())
	require.NoError(t, s.Close())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reports, 1)
	assert.ErrorIs(t, reports[0].Err, recstore.ErrPanic)
}

func TestView_Race(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	defer s.Close()
	v := albums.View(func(a *Album) bool { return a.SongCount%2 == 0 })
	defer v.Close()
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "%d", "attributes": {"songCount": %d}}}`, i%30, g+i))
				if err != nil {
					t.Error(err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				for _, a := range v.All() {
					_ = a
				}
				_ = v.Len()
			}
		}()
	}
	wg.Wait()
	// Afterwards the view holds exactly the even ones.
	want := 0
	for _, a := range albums.All() {
		if a.SongCount%2 == 0 {
			want++
		}
	}
	assert.Equal(t, want, v.Len())
}
