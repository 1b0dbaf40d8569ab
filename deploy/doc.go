// Package deploy holds the deployment files that are not Go: the scripts of
// docker-compose.yml's one-shot services (temporal/), the generator of its
// development secrets (secrets.sh) and the git-ignored secrets/ directory.
//
// Its test keeps docker-compose.yml, the Dockerfile and .dockerignore honest
// where no Docker engine runs: every command and flag a service runs exists,
// every variable it sets is read by that command's code and documented in
// README.md, every port is the one the code listens on, every image is
// pinned, every secret is mounted from deploy/secrets/ and nothing from
// .local/ can reach a container or an image.
package deploy
