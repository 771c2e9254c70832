// Package web renders the pages members use: the day view of a site's
// rooms (GET / and /sites/{id}), their own bookings (/mes-reservations),
// and their templates, message catalogues and front-end files.
//
// Vocabulary:
//   - a page is one HTML document, rendered from templates/base.html and
//     its own template, with one CSS file (static/app.css) and one
//     JavaScript module of its own (static/<page>.js);
//   - an asset is a static file served at /static/{tag}/{name}, tag being
//     a hash of its content, so browsers keep it for a year;
//   - vendor assets (the @event-calendar bundle) are fetched with npm by
//     `make assets` into static/vendor/, which git ignores; a binary built
//     without them still serves every page, saying the calendar is
//     missing, and the keyboard booking form still works;
//   - a catalogue (i18n/fr.json, i18n/en.json) holds every string the
//     pages show; French is the default, English is chosen by the lang
//     cookie (the switch link sets it) or the Accept-Language header.
//
// The pages call the JSON API (/api/v1) with fetch, sending the session's
// CSRF token in X-CSRF-Token; package api decides who may see a page and
// calls Site through its Pages interface.
package web
