package config

// Setting is one environment variable the gateway reads, with the value it
// takes when the variable is unset or empty ("" when unset means off or
// none).
type Setting struct {
	Name, Default string
}

// Settings lists every setting Load reads, in the order it reads them, with
// its default. It runs Load itself with a getenv that records each name, so
// the list cannot miss a setting Load reads. Some defaults depend on other
// settings (GATEWAY_ENV=production turns introspection off and the rate
// limit on): they are the defaults in the environment getenv describes.
func Settings(getenv func(string) string) []Setting {
	var list []Setting
	index := map[string]int{}
	p := &parser{}
	p.getenv = func(name string) string {
		if _, ok := index[name]; !ok {
			index[name] = len(list)
			list = append(list, Setting{Name: name})
		}
		return getenv(name)
	}
	p.defaults = func(name, def string) {
		p.getenv(name)
		list[index[name]].Default = def
	}
	_, _ = load(p) // An invalid setting still lists every name.
	return list
}
