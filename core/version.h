/*
 * core/version.h - the version of sluice (CLI, /version of the API).
 */
#ifndef SL_CORE_VERSION_H
#define SL_CORE_VERSION_H

#define SL_VERSION "0.1.0-dev"

#endif
