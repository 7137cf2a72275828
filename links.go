package recstore

// Href returns the URL of the link name in a JSON:API links object:
// either the member's string value or the "href" of a link object. It
// returns "" when links has no such member or it is neither.
func Href(links map[string]any, name string) string {
	switch v := links[name].(type) {
	case string:
		return v
	case map[string]any:
		if h, ok := v["href"].(string); ok {
			return h
		}
	}
	return ""
}
