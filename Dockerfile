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
# Node 24 sizes each isolate's heap from the machine's memory: where there is plenty, the young
# generation grows to 128 MiB (Node 20: 32 MiB) and the old one for long before V8 collects it;
# the worker has two isolates (activities, workflows). 2 s after a burst of 1,000 dunnings the
# worker measured 562-656 MiB resident with Node 24's defaults, 361-521 MiB with the young
# generation limited, 318-321 MiB with the old one limited to 256 MiB too (the activities' old
# generation at its fullest in a whole bench: 53 MiB; BENCHMARKS.md). An isolate reaching the
# limit ends the process (compose starts it again): raise it with WORKER_MAX_CACHED_WORKFLOWS.
ENV NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=256"
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/src/main/api.js"]
