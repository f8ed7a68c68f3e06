# syntax=docker/dockerfile:1
# mcpwatch container image: `docker build -t ghcr.io/mcpwatch/mcpwatch:<version> .`
# The Node major must satisfy package.json "engines" (test/deploy/dockerfile.test.ts checks it).
ARG NODE_VERSION=22

# Build: all dependencies (TypeScript is a dev dependency), compile src/ to dist/, then drop the
# dev dependencies so the runtime stage copies production ones only.
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs tsc, and src/ is not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime: no npm cache, no sources, no compiler; a fixed numeric non-root user so Kubernetes'
# runAsNonRoot can verify it (a user name cannot be checked).
FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which dist/ needs.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER 65532:65532
EXPOSE 9465
ENTRYPOINT ["node", "bin/mcpwatch.js"]
CMD ["--config.file=/etc/mcpwatch/mcpwatch.yaml"]
