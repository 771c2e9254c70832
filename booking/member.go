package booking

// Group names that carry roles.
const (
	GroupOrganisers = "organisers"
	GroupAdmins     = "admins"
)

// Member is the person acting, as the identity layer established it.
type Member struct {
	ID     string // stable id (the SSO subject or login)
	Name   string
	Email  string
	Groups []string
}

// InGroup reports whether m belongs to group g.
func (m Member) InGroup(g string) bool {
	for _, have := range m.Groups {
		if have == g {
			return true
		}
	}
	return false
}

// IsAdmin reports whether m has the admin role.
func (m Member) IsAdmin() bool { return m.InGroup(GroupAdmins) }

// IsOrganiser reports whether m may organise events (admins may too).
func (m Member) IsOrganiser() bool { return m.InGroup(GroupOrganisers) || m.IsAdmin() }
