# roomcal: a static Go binary on a small Debian.
# Build: make image (the help page's pictures taken first, then docker
# build), or docker build -t roomcal . / docker-compose build (the help
# page then text only).

# The pages' calendar component, from npm (web/package-lock.json); the
# files go:embed takes are copied into the Go stage.
FROM node:22-bookworm-slim AS assets
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /web/node_modules/@event-calendar/build/dist/event-calendar.min.js \
     /web/node_modules/@event-calendar/build/dist/event-calendar.min.css web/static/vendor/
# The flags of the Makefile's BUILD_FLAGS.
RUN CGO_ENABLED=0 go build -trimpath -tags nomsgpack -o /roomcal ./cmd/roomcal
# The help page's pictures, when the context has them: `make image` takes
# them first (make screenshots: the browser test of the help page, which
# needs Chromium and cannot run in this build). Without them (a plain
# docker build of a clean clone) the help page is text only, as `make
# run` shows it then; generated files never go into git.
RUN mkdir -p /help-images \
 && if [ -d help-images ]; then cp help-images/*.png /help-images/ 2>/dev/null || true; fi

FROM debian:trixie-slim
# ca-certificates: HTTPS to Nextcloud and the OIDC issuer; curl: the
# health check. Time zones are embedded in the binary (time/tzdata).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/roomcal --create-home roomcal
COPY --from=build /roomcal /usr/local/bin/roomcal
COPY --from=build /help-images /usr/share/roomcal/help-images
USER roomcal
WORKDIR /var/lib/roomcal
ENV ROOMCAL_ADDR=0.0.0.0:8080 \
    ROOMCAL_DATA_DIR=/var/lib/roomcal/data \
    ROOMCAL_HELP_IMAGES=/usr/share/roomcal/help-images
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["roomcal"]
CMD ["serve"]
