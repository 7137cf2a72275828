package recstore

// Running counts the goroutines Close waits for: adapter calls, coalesced
// batches being sent, foreground FindAll and Query calls.
func Running(s *Store) int {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	return s.running
}
