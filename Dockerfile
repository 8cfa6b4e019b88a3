FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# A published port arrives on the container's own interface, not its loopback.
ENV HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 4000
# A larger young generation: the server allocates fast and short-lived (requests, batches);
# measured in bench/README.md.
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
