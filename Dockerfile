# iamtrail: one small container. Build stage compiles TypeScript and better-sqlite3; the runtime
# stage holds only production dependencies and runs as the unprivileged "node" user.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_PATH=/data/iamtrail.sqlite
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
COPY db db
COPY views views
COPY public public
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# start period: migrations run before the server listens, and one that rebuilds an audit index takes
# about a minute per 10 M entries (README, "Upgrading"); a check that passes ends it at once
HEALTHCHECK --interval=30s --timeout=5s --start-period=5m --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# the node options of `npm start` (package.json): a small young generation and an old generation
# collected when grown by half keep RSS near 175 MB under load (README, "Memory")
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/src/server.js"]
