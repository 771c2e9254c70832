// Package web will hold the pages members use (templates, front-end
// sources and their build). It is not built yet; the package exists so
// the layout of DESIGN.md is in place.
package web
