package api
import ("testing";"context";"github.com/getkin/kin-openapi/openapi3")
func TestLoad(t *testing.T){ l:=openapi3.NewLoader(); d,err:=l.LoadFromData(OpenAPI); if err!=nil{t.Fatal(err)}; if err:=d.Validate(context.Background());err!=nil{t.Fatal(err)}}
