# The API and the worker share one image; compose picks the command. The image runs compiled
# JavaScript with production dependencies only: no TypeScript runtime, no development servers.
# The base is the Node.js LTS in .nvmrc, the one CI runs the engine tests on.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
RUN npm run build

FROM node:24.22.3-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Node 24 lets each isolate's young generation grow to 128 MiB on a machine with plenty of
# memory (Node 20: 32 MiB), and the worker has two isolates (activities, workflows). With 1,000
# dunnings waiting, the worker measured 562-656 MiB resident on Node 24 and 361-490 MiB with
# Node 20's size (BENCHMARKS.md).
ENV NODE_OPTIONS=--max-semi-space-size=16
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/src/main/api.js"]
