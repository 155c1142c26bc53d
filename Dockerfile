# syntax=docker/dockerfile:1
# otel-sigma: runs the TypeScript sources directly with Node 24's type stripping (no build step).

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` devDependency is not needed inside the Node 24 image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# Inside a container the listeners must bind 0.0.0.0 to be reachable, and otel-sigma refuses a non-loopback
# listener without TLS: there is no plaintext public listener by default. Mount a certificate and set
# OTEL_SIGMA_TLS_CERT_FILE / OTEL_SIGMA_TLS_KEY_FILE (and OTEL_SIGMA_AUTH_TOKEN), or, only on a private pod
# network or a sidecar whose ports are not published, opt in with OTEL_SIGMA_ALLOW_INSECURE_NON_LOOPBACK=true.
ENV NODE_ENV=production \
    OTEL_SIGMA_GRPC_LISTEN=0.0.0.0:4319 \
    OTEL_SIGMA_HTTP_LISTEN=0.0.0.0:4320 \
    OTEL_SIGMA_DATA_DIR=/var/lib/otel-sigma
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY proto ./proto
COPY rules ./rules
RUN mkdir -p /var/lib/otel-sigma && chown node:node /var/lib/otel-sigma
USER node
EXPOSE 4319 4320
VOLUME ["/var/lib/otel-sigma"]
# /healthz over HTTPS or HTTP, whichever the listener speaks (bin/healthcheck.js).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/otel-sigma.js"]
CMD ["serve"]
