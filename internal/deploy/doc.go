// Package deploy holds no code: its tests check the deployment files at the
// top of the repository (docker-compose.yml, worker/redis.conf,
// worker/tidings.yaml) by starting the same programs directly, since the
// machines that run the tests have no Docker.
package deploy
