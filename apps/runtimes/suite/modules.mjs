// The built packages (their dist ESM, resolved through each package's `exports`), as the suite's
// runners hand them to it. Runtimes without axios (workerd, browsers) use only this file.
import * as core from '@auth/core';
import * as fetchAdapter from '@auth/fetch-adapter';
import * as olAdmin from '@auth/openloyalty-admin';
import * as olMember from '@auth/openloyalty-member';
import * as olApiKey from '@auth/openloyalty-api-key';
import * as drPassword from '@auth/datarhei-password';
import * as drAuth0 from '@auth/datarhei-auth0';

export const modules = { core, fetchAdapter, olAdmin, olMember, olApiKey, drPassword, drAuth0 };
