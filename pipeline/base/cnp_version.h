/* pipeline/base/cnp_version.h - the program version, as `git describe` gave it at
 * build time. It lives in one generated object (build/cnp_version.c), rebuilt
 * whenever the description changes, so every output that records a version
 * (run.json, PNG metadata, batch and monitor ledgers, --version) says the same. */
#ifndef CNP_VERSION_H
#define CNP_VERSION_H

extern const char cnp_version[];

#endif /* CNP_VERSION_H */
