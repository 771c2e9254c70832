package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/roomcal/roomcal/booking"
)

type preferencesJSON struct {
	Site      string          `json:"site"`
	Lang      string          `json:"lang"`
	Notices   map[string]bool `json:"notices"`
	Dismissed []string        `json:"dismissed"`
	UpdatedAt *string         `json:"updated_at"`
}

func toPreferencesJSON(p booking.Preferences) preferencesJSON {
	out := preferencesJSON{Site: p.Site, Lang: p.Lang, Notices: p.Notices, Dismissed: nonNil(p.Dismissed)}
	if out.Notices == nil {
		out.Notices = map[string]bool{}
	}
	if !p.UpdatedAt.IsZero() {
		at := p.UpdatedAt.Format(time.RFC3339)
		out.UpdatedAt = &at
	}
	return out
}

// preferencesPatchJSON is a PATCH of one's preferences: fields given
// replace, notices merge kind by kind, dismiss adds one key.
type preferencesPatchJSON struct {
	Site    *string         `json:"site"`
	Lang    *string         `json:"lang"`
	Notices map[string]bool `json:"notices"`
	Dismiss *string         `json:"dismiss"`
}

func (s *Server) getPreferences(c *gin.Context) {
	m, _ := member(c)
	p, err := s.opts.Preferences.Preferences(c.Request.Context(), m.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toPreferencesJSON(p))
}

func (s *Server) patchPreferences(c *gin.Context) {
	var req preferencesPatchJSON
	if err := readJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Site != nil && *req.Site != "" {
		if _, err := s.opts.Catalog.Site(*req.Site); err != nil {
			writeError(c, &booking.InvalidError{Detail: "site : site inconnu / site: unknown site"})
			return
		}
	}
	m, _ := member(c)
	p, err := s.opts.Preferences.UpdatePreferences(c.Request.Context(), m.ID, func(p *booking.Preferences) error {
		if req.Site != nil {
			p.Site = *req.Site
		}
		if req.Lang != nil {
			if err := p.SetLang(*req.Lang); err != nil {
				return err
			}
		}
		for kind, on := range req.Notices {
			if err := p.SetNotice(kind, on); err != nil {
				return err
			}
		}
		if req.Dismiss != nil {
			return p.Dismiss(*req.Dismiss)
		}
		return nil
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, toPreferencesJSON(p))
}

// errSameSite: the member's preferences already name the site.
var errSameSite = errors.New("site unchanged")

// rememberSiteTimeout bounds the write that remembers a member's site
// after a booking.
const rememberSiteTimeout = 10 * time.Second

// rememberSite makes site the one the member's start page opens on,
// and keeps their address and name for notices about their bookings,
// after their booking was answered: best effort, off the request path
// (the answer does not wait for a second calendar write), and no write
// when they are already theirs.
func (s *Server) rememberSite(ctx context.Context, m booking.Member, site string) {
	if s.opts.Preferences == nil || site == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rememberSiteTimeout)
	go func() {
		defer cancel()
		_, err := s.opts.Preferences.UpdatePreferences(ctx, m.ID, func(p *booking.Preferences) error {
			if p.Site == site && p.Email == m.Email && p.Name == m.Name {
				return errSameSite
			}
			p.Site, p.Email, p.Name = site, m.Email, m.Name
			return nil
		})
		if err != nil && !errors.Is(err, errSameSite) {
			s.log.Warn("remember the site of a member's booking", "member", m.ID, "site", site, "err", err)
		}
	}()
}
