# syntax=docker/dockerfile:1
# otel-sigma: runs the TypeScript sources directly with Node 24's type stripping (no build step).

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` devDependency is not needed inside the Node 24 image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# Inside a container the listeners must bind 0.0.0.0 to be reachable. otel-sigma refuses a non-loopback
# listener without TLS unless told otherwise: either mount a certificate and set OTEL_SIGMA_TLS_CERT_FILE /
# OTEL_SIGMA_TLS_KEY_FILE (and drop the next line), or keep the plaintext opt-in for a private pod network.
ENV NODE_ENV=production \
    OTEL_SIGMA_GRPC_LISTEN=0.0.0.0:4319 \
    OTEL_SIGMA_HTTP_LISTEN=0.0.0.0:4320 \
    OTEL_SIGMA_ALLOW_INSECURE_NON_LOOPBACK=true \
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
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4320/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/otel-sigma.js"]
CMD ["serve"]
