#include <gnunet/gnunet_util_lib.h>
#include <gnunet/gnunet_protocols.h>
#include <gnunet/gnunet_signatures.h>
#include <gnunet/gnunet_identity_service.h>
#include <gnunet/gnunet_gnsrecord_lib.h>
