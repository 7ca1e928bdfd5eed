"""`gtm run`'s one line per failed step names what went wrong, not the wrapper around it."""

import sys

from dagster._utils.error import serializable_error_info_from_exc_info

from gtm_assets.cli.progress import failure_reason


def test_a_failed_step_is_one_line_from_the_innermost_cause():
    try:
        try:
            raise ValueError("Catalog Error: Table with name mmm_model does not exist!\nDid you mean platform_ad_metrics?")
        except ValueError as error:
            raise RuntimeError('Error occurred while executing op "mmm_model":') from error
    except RuntimeError:
        info = serializable_error_info_from_exc_info(sys.exc_info())
    assert failure_reason(info) == "ValueError: Catalog Error: Table with name mmm_model does not exist!"
