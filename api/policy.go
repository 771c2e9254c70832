package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Policy says who may call a route. Finer checks that need the resource
// (a booking's organizer) are made by the domain, which answers
// ErrForbidden.
type Policy int

const (
	// Anyone, identified or not.
	Anyone Policy = iota + 1
	// Member: any identified member.
	Member
	// Organiser: members of the organisers group, and admins.
	Organiser
	// Admin: members of the admins group.
	Admin
	// RoomAdmin: admins, and site admins (a group "admins-<site id>");
	// the domain checks the site of the room.
	RoomAdmin
)

func (p Policy) String() string {
	return [...]string{"", "anyone", "member", "organiser", "admin", "room admin"}[p]
}

// enforce turns a route's policy into a middleware.
func enforce(p Policy) gin.HandlerFunc {
	return func(c *gin.Context) {
		if p == Anyone {
			c.Next()
			return
		}
		m, ok := member(c)
		if !ok {
			renderProblem(c, problem(http.StatusUnauthorized, CodeUnauthenticated, "Connectez-vous d'abord. / Log in first."))
			return
		}
		if (p == Organiser && !m.IsOrganiser()) || (p == Admin && !m.IsAdmin()) || (p == RoomAdmin && !m.IsRoomAdmin()) {
			renderProblem(c, problem(http.StatusForbidden, CodeForbidden, "Vous n'avez pas accès à cette page. / You may not do this."))
			return
		}
		c.Next()
	}
}
