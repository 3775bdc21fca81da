from __future__ import annotations

from typing import Any

from django import forms

from safetynet.core.importing import max_file_bytes
from safetynet.imports.services import ALLOWED_EXTENSIONS, max_upload_mb, upload_problem


class ImportJobForm(forms.Form):
    kind = forms.ChoiceField(
        label="导入类型",
        error_messages={"required": "请选择导入类型。", "invalid_choice": "请选择导入类型。"},
    )
    upload = forms.FileField(
        label="数据文件",
        error_messages={
            "required": "请选择要上传的文件。",
            "empty": "上传的文件是空的（0 字节），请检查是否选错了文件。",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
    )
    dry_run = forms.BooleanField(
        label="仅校验不写入",
        required=False,
        help_text="检查每一行并与数据库比对，报告将新增、更新多少条，但不修改数据库。",
    )
    keep_valid = forms.BooleanField(
        label="保留有效行",
        required=False,
        help_text="有错误的行不导入，其余正确的行照常导入；不勾选时，只要有一行错误，整个文件都不导入。",
    )

    def __init__(self, *args: Any, kinds: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "请选择…"), *kinds.items()]
        # The limit is a setting: read when the form is made, so the page and the check agree.
        upload = self.fields["upload"]
        upload.help_text = f"CSV（UTF-8）或 Excel 工作簿（.xlsx，读取第一个工作表），第一行为中文表头，最大 {max_upload_mb()} MB。"
        upload.widget.attrs.update(
            {"data-max-bytes": str(max_file_bytes()), "data-max-mb": str(max_upload_mb())}
        )

    def clean_upload(self) -> Any:
        upload = self.cleaned_data.get("upload")
        problem = upload_problem(upload)
        if problem:
            raise forms.ValidationError(problem)
        return upload
