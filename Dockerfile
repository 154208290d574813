# dicom-fhir-bridge container image.
#   docker build -t dicom-fhir-bridge .
#   docker run -p 11112:11112 -p 127.0.0.1:8080:8080 \
#     -e ADMIN_TOKEN="$(openssl rand -hex 32)" \
#     -e FHIR_BASE_URL=http://fhir:8080/fhir -v bridge-data:/data dicom-fhir-bridge
#
# HTTP binds 0.0.0.0 inside the container (so the port can be published),
# which is not loopback: the bridge refuses to start (exit 2) without
# ADMIN_TOKEN (16 characters or more). With it, /studies, /status, the
# republish POSTs and /fhir need `Authorization: Bearer $ADMIN_TOKEN`
# (the CLI's status and republish send it from the environment);
# /healthz, /readyz and /metrics stay open and carry no patient data.
# FHIR_ENDPOINT_BEARER_TOKEN adds a read-only token for /fhir (e.g. an EHR).
# Pass tokens with --env-file or a secret manager rather than on the command line.

# Build stage: compile TypeScript and the native SQLite binding.
FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY scripts/copy-lua.mjs ./scripts/
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: only what runs.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    DICOM_HOST=0.0.0.0 \
    HTTP_HOST=0.0.0.0
# ADMIN_TOKEN has no default on purpose: set it at `docker run` (see above).
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 11112 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
