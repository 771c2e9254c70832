// Package config reads roomcal's configuration: server settings from the
// environment and the file roomcal.yaml, sites, rooms, opening hours and
// booking rules from the file. It returns a Config value, resolved and
// validated; nothing is kept in package variables.
//
// # Where it comes from
//
// Load takes the file named by ROOMCAL_CONFIG, else ./roomcal.yaml, else
// the built-in demo (DemoYAML: three sites, nine rooms, commented — the
// best starting point for a real file). Each server setting comes from its
// environment variable when that is set and not blank, else from the
// file's server: section, else from its default. A blank value, in the
// environment or the file, counts as not set.
//
// # The file
//
// Top-level keys: server, rules, closures, sites. Keys are fixed: an
// unknown key is an error (with a suggestion when it looks like a typo).
//
//	server:                  # optional; each key also ROOMCAL_<KEY IN CAPITALS>
//	  addr: 127.0.0.1:8080   # listen address, host:port
//	  public_url: https://salles.example.coop  # optional, no default
//	  data_dir: ./data       # embedded calendar store (relative to the working directory)
//	  caldav_url: ""         # CalDAV home; empty: the embedded store
//	  caldav_user: ""
//	  caldav_password: ""    # better in the environment
//	  redis_url: ""          # redis://, rediss:// or unix://; empty: the embedded engine
//	  redis_cluster: false   # true: redis_url is one node of a Redis Cluster (several
//	                         # nodes say it alone: redis://h1:p1?addr=h2:p2&addr=h3:p3)
//	  auth_mode: dev         # dev, header or oidc
//	  trusted_proxies: [127.0.0.1/32, "::1/128"]  # list, or one line with commas
//	  oidc_issuer: ""        # required with oidc
//	  oidc_client_id: ""     # required with oidc
//	  oidc_client_secret: "" # better in the environment
//	  sync_interval: 30s     # at least 1s
//	  events_calendar: evenements
//	  log_level: info        # debug, info, warn, error
//	rules:                   # defaults for every room
//	  max_duration: 4h       # 0 or none: no limit
//	  min_notice: 15m        # 0 or none: none
//	  max_ahead: 90d         # 0 or none: no limit
//	  buffer: 10m            # 0 or none: none
//	  allowed_groups: [salaries]  # empty or absent: every member
//	  quota_per_week: 6h     # one member's booked time a week; 0 or none: no limit
//	  quota_ahead: 5         # one member's bookings not yet over (a series counts once)
//	  quota_longest: 3h      # one member's longest booking
//	  quota_scope: site      # site (default: counted over the site's rooms) or room
//	  quota_exempt: [bureau] # groups without quota (admins have none)
//	  approvers: [ca]        # bookings are requests a member of these groups answers
//	  approval_within: 7d    # a request not answered by then lapses (default 7d)
//	  checkin_within: 15m    # "Je suis là" within this of the start, or the rest is freed
//	closures:                # days every site is closed
//	  - 2026-05-01           # one day
//	  - {date: 2026-05-08, reason: Victoire 1945}
//	  - {from: 2026-12-24, to: 2027-01-01, reason: Fin d'année}
//	sites:                   # at least one
//	  - id: nantes           # a-z, 0-9 and "-", unique among sites
//	    name: Nantes
//	    timezone: Europe/Paris
//	    hide_titles: false   # true: members see when rooms are taken, not what for
//	    hours:               # the default for the site's rooms
//	      mon-fri: "08:00-12:30, 13:30-19:00"
//	      sat: "09:00-13:00"
//	    closures: [2026-08-14]      # added to the global ones
//	    rules: {max_duration: 2h}   # over the global rules
//	    rooms:
//	      - id: nantes-loire # a-z, 0-9 and "-", unique among all rooms
//	        name: Salle Loire
//	        capacity: 12     # a whole number > 0
//	        equipment: [vidéoprojecteur, visio]   # list, or one line with commas
//	        calendar: nantes-loire  # default: the id; unique; one path segment
//	        hours: {sat: closed}    # day by day over the site's hours
//	        closures: [{from: 2026-03-02, to: 2026-03-06, reason: Travaux}]
//	        rules: {max_duration: 8h, allowed_groups: []}  # over the site's
//
// Merging: rules merge key by key, global → site → room (a key given at a
// level replaces the one above, so "allowed_groups: []" lifts a limit set
// above). Opening hours merge day by day, site → room. Closures add up:
// global, site, then room, sorted by first day.
//
// Durations are Go durations (90s, 15m, 1h30m) plus d (24h) and w (7d), or
// 0, or none. Hours: keys are days (mon tue wed thu fri sat sun), runs of
// days (mon-fri; sat-mon wraps) or both with commas (mon-wed,fri); values
// are "HH:MM-HH:MM" ranges (8h30 also reads as 08:30; 24:00 may end a
// range; ranges cannot cross midnight), several of them in a list or
// separated by commas, or closed. Once any day is given, the days not
// given are closed; with no hours at all a room is open around the clock.
// A room that ends up with every day closed is an error. Dates are
// YYYY-MM-DD; a closure includes its first and last days.
//
// YAML anchors, aliases and merge keys ("<<: *name") are understood, so a
// block of hours or rules can be written once and reused.
//
// # Errors
//
// Parse, LoadFile and Load report every problem at once in an
// *InvalidError, one line each, the file's with its line and key path:
//
//	roomcal.yaml:14: sites[0].rooms[2].capacity: must be a positive whole number, got "douze"
//	ROOMCAL_SYNC_INTERVAL: must be a duration like 15m, 4h, 90d or 2w, got "often"
//
// Secrets (Secret) and passwords in URLs are redacted in every printed or
// logged form of a Config.
package config
