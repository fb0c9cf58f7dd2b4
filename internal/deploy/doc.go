// Package deploy holds no code: its tests check the deployment files at the
// top of the repository (docker-compose.yml, deploy/redis.conf,
// deploy/tidings.yaml) by starting the same programs directly, since the
// machines that run the tests have no Docker.
package deploy
