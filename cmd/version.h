/*
 * cmd/version.h - the version string printed by `sluice version`.
 */
#ifndef SL_CMD_VERSION_H
#define SL_CMD_VERSION_H

#define SL_VERSION "0.1.0-dev"

#endif
